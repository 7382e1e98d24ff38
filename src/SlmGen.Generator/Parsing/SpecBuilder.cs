using System.Collections.Generic;
using SlmGen.Generator.Model;

namespace SlmGen.Generator.Parsing;

/// <summary>Collects a spec's values and where each was written; both front-ends fill one.</summary>
internal sealed class SpecBuilder
{
    private readonly List<SettingLocation> settings = new();
    private readonly HashSet<string> written = new(System.StringComparer.Ordinal);

    public SpecBuilder(string ns, string className, SpecSource source, string sourcePath)
    {
        Namespace = ns;
        ClassName = className;
        Source = source;
        SourcePath = sourcePath;
    }

    public string Namespace { get; set; }

    public string ClassName { get; set; }

    public SpecSource Source { get; }

    public string SourcePath { get; }

    public int Vocab { get; set; }

    public int Context { get; set; }

    public double Dropout { get; set; }

    /// <summary>-1 = the model's dropout.</summary>
    public double EmbeddingDropout { get; set; } = -1;

    public InitScheme Init { get; set; }

    public int PadVocabTo { get; set; }

    public string Tokenizer { get; set; } = "";

    public int Width { get; set; }

    public int BigramBuckets { get; set; }

    public int BigramDim { get; set; }

    public PositionSpec Positions { get; set; } = PositionSpec.None;

    public List<LayerSpec> Layers { get; } = new();

    public NormSpec FinalNorm { get; set; } = NormSpec.None;

    public HeadSpec Head { get; set; } = HeadSpec.Default;

    public BudgetSpec Budget { get; set; } = BudgetSpec.None;

    public QuantSpec Quantization { get; set; } = QuantSpec.None;

    /// <summary>Members the user declared on the class (attribute front-end).</summary>
    public List<UserMember> UserMembers { get; } = new();

    /// <summary>Records that <paramref name="key"/> was written at <paramref name="location"/>.</summary>
    public void Set(string key, string display, LocationInfo? location)
    {
        settings.Add(new SettingLocation(key, display, location));
        written.Add(key);
    }

    /// <summary>True when <paramref name="key"/> was written.</summary>
    public bool Has(string key) => written.Contains(key);

    /// <summary>Registers the next layer's location and returns its key.</summary>
    public string NextLayer(string display, LocationInfo? location)
    {
        var key = SpecKeys.Layer(Layers.Count);
        Set(key, display, location);
        return key;
    }

    public ModelSpec Build() => new(
        Namespace,
        ClassName,
        Source,
        SourcePath,
        Vocab,
        Context,
        Dropout,
        EmbeddingDropout,
        Init,
        Width,
        Positions,
        Layers.ToEquatableArray(),
        FinalNorm,
        Head,
        Budget,
        Quantization,
        new SettingMap(settings.ToEquatableArray()),
        UserMembers.ToEquatableArray())
    {
        PadVocabTo = PadVocabTo,
        Tokenizer = Tokenizer,
        BigramBuckets = BigramBuckets,
        BigramDim = BigramDim,
    };
}
