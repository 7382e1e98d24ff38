using System;
using System.Collections.Generic;

namespace SlmGen.Generator.Model;

/// <summary>
/// One model as declared: the single spec model both front-ends (attributes and YAML) produce. From here
/// on there is one path: validation, the cost model, budgets and emission.
/// </summary>
/// <remarks>
/// Numbers that were not given are 0 (or -1 where 0 is meaningful); <see cref="Settings"/> records which
/// settings were written and where, under the same keys for both front-ends (<c>vocab</c>,
/// <c>layers[2].heads</c>, ...), so that diagnostics point at the right attribute argument or YAML node.
/// </remarks>
internal sealed record ModelSpec(
    string Namespace,
    string ClassName,
    SpecSource Source,
    string SourcePath,
    int Vocab,
    int Context,
    double Dropout,
    double EmbeddingDropout,
    InitScheme Init,
    int Width,
    PositionSpec Positions,
    EquatableArray<LayerSpec> Layers,
    NormSpec FinalNorm,
    HeadSpec Head,
    BudgetSpec Budget,
    QuantSpec Quantization,
    SettingMap Settings,
    EquatableArray<UserMember> UserMembers)
{
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;

    /// <summary>Round the vocabulary up to a multiple of this (0 = no padding).</summary>
    public int PadVocabTo { get; init; }

    /// <summary>Rows of the hashed bigram table added to the token embedding (0 = none; see <c>BigramStep</c>).</summary>
    public int BigramBuckets { get; init; }

    /// <summary>Width of a bigram row (0 = the embedding width).</summary>
    public int BigramDim { get; init; }

    /// <summary>The declared tokenizer ("" = none).</summary>
    public string Tokenizer { get; init; } = "";

    /// <summary>The vocabulary the model is built with: <see cref="Vocab"/> rounded up to <see cref="PadVocabTo"/>.</summary>
    public int PaddedVocab => PadVocabTo > 1 && Vocab > 0 ? (int)Math.Min(int.MaxValue, ((long)Vocab + PadVocabTo - 1) / PadVocabTo * PadVocabTo) : Vocab;

    /// <summary>Dropout on the embedding output (token plus positions): given, or the model's dropout.</summary>
    public double EffectiveEmbeddingDropout => EmbeddingDropout >= 0 ? EmbeddingDropout : Dropout;

    /// <summary>True when the setting under <paramref name="key"/> was written.</summary>
    public bool Has(string key) => Settings.Find(key) is not null;

    /// <summary>Where the setting <paramref name="key"/> was written, else the closest enclosing setting, else the declaration.</summary>
    public LocationInfo? Where(string key)
    {
        for (var k = key; k.Length > 0; k = Parent(k))
        {
            if (Settings.Find(k) is { } s)
            {
                return s.Location;
            }
        }

        return Declaration;
    }

    /// <summary>How the user wrote the setting (<c>TransformerBlocks.Heads</c> or <c>layers[1].transformer.heads</c>).</summary>
    public string Display(string key)
    {
        return Settings.Find(key)?.Display ?? key;
    }

    /// <summary>The declaration: the [Model] attribute or the YAML document.</summary>
    public LocationInfo? Declaration => Settings.Find(SpecKeys.Declaration)?.Location;

    private static string Parent(string key)
    {
        var dot = key.LastIndexOf('.');
        return dot < 0 ? string.Empty : key.Substring(0, dot);
    }
}

/// <summary>Where one setting was written and how (for messages).</summary>
internal sealed record SettingLocation(string Key, string Display, LocationInfo? Location);

/// <summary>A member the user declared on a model class (checked against the generated members).</summary>
internal sealed record UserMember(string Name, LocationInfo? Location);

/// <summary>
/// The settings of a spec by key, with value equality over the list and constant-time look-ups (a spec of
/// 20,000 layers has some 100,000 settings; every check looks some up).
/// </summary>
internal sealed class SettingMap : IEquatable<SettingMap>
{
    private readonly EquatableArray<SettingLocation> items;
    private Dictionary<string, SettingLocation>? byKey;

    public SettingMap(EquatableArray<SettingLocation> items) => this.items = items;

    public int Count => items.Count;

    /// <summary>The first setting written under <paramref name="key"/>, or null.</summary>
    public SettingLocation? Find(string key)
    {
        if (byKey is null)
        {
            var map = new Dictionary<string, SettingLocation>(StringComparer.Ordinal);
            foreach (var s in items)
            {
                if (!map.ContainsKey(s.Key))
                {
                    map[s.Key] = s;
                }
            }

            byKey = map;
        }

        return byKey.TryGetValue(key, out var found) ? found : null;
    }

    public bool Equals(SettingMap? other) => other is not null && items.Equals(other.items);

    public override bool Equals(object? obj) => Equals(obj as SettingMap);

    public override int GetHashCode() => items.GetHashCode();
}

/// <summary>Keys of settings, shared by both front-ends.</summary>
internal static class SpecKeys
{
    public const string Declaration = "model";
    public const string Vocab = "vocab";
    public const string Context = "context";
    public const string Dropout = "dropout";
    public const string EmbeddingDropout = "embedding_dropout";
    public const string Init = "init";
    public const string HeadGroups = "head.groups";
    public const string PadVocabTo = "pad_vocab_to";
    public const string Tokenizer = "tokenizer";
    public const string Embedding = "embedding";
    public const string Width = "embedding.dim";
    public const string BigramBuckets = "embedding.bigram_buckets";
    public const string BigramDim = "embedding.bigram_dim";
    public const string Positions = "positions";
    public const string PositionsLength = "positions.length";
    public const string RopeBase = "positions.base";
    public const string FinalNorm = "final_norm";
    public const string Head = "head";
    public const string HeadTied = "head.tied";
    public const string HeadBias = "head.bias";
    public const string HeadRank = "head.rank";
    public const string HeadSoftCap = "head.softcap";
    public const string HeadConditioned = "head.conditioned";
    public const string Budget = "budget";

    public static string Layer(int index) => "layers[" + index + "]";

    public static string Layer(int index, string setting) => Layer(index) + "." + setting;

    public static string Budgets(string setting) => Budget + "." + setting;

    public const string Quantization = "quantization";

    public static string Quant(string part) => Quantization + "." + part;
}

/// <summary>Position information.</summary>
/// <param name="Length">Rows of a learned table (0 = the context length).</param>
/// <param name="RopeBase">RoPE frequency base (0 = 10000).</param>
internal sealed record PositionSpec(PositionKind Kind, int Length, double RopeBase)
{
    public static readonly PositionSpec None = new(PositionKind.None, 0, 0);

    public double EffectiveRopeBase => RopeBase > 0 ? RopeBase : 10000.0;
}

/// <summary>A norm (Kind None = absent).</summary>
internal sealed record NormSpec(NormKind Kind, bool Bias)
{
    public static readonly NormSpec None = new(NormKind.None, true);
}

/// <summary>The LM head.</summary>
/// <param name="Rank">Bottleneck width of a factorised head (0 = a full matrix).</param>
internal sealed record HeadSpec(bool Tied, bool Bias, int Rank)
{
    /// <summary>Groups of a grouped (two-level) head; 0 = one softmax over the vocabulary.</summary>
    public int Groups { get; init; }

    /// <summary>Logit soft-cap (0 = none).</summary>
    public double SoftCap { get; init; }

    /// <summary>A grouped head whose position softmax is conditioned on the group (a gate per group).</summary>
    public bool Conditioned { get; init; }

    public static readonly HeadSpec Default = new(false, false, 0);
}

/// <summary>
/// The precision plan: bits of each part's weight matrices (0 = full precision), the scale grouping, the storage
/// types of scales and of every other tensor, the quantiser (QAT or after training) and the artifact's compression.
/// </summary>
internal sealed record QuantSpec(int Attention, int Mlp, int Dense, int Head, int Embedding)
{
    public static readonly QuantSpec None = new(0, 0, 0, 0, 0);

    /// <summary>Columns per scale (0 = one scale per row).</summary>
    public int Group { get; init; }

    /// <summary>The scales' storage type.</summary>
    public StoreType Scales { get; init; } = StoreType.Fp16;

    /// <summary>The other tensors' storage type (<see cref="StoreType.Auto"/>: bf16 when quantising, else fp32).</summary>
    public StoreType Others { get; init; } = StoreType.Auto;

    /// <summary>How the codes are found.</summary>
    public Quantizer Method { get; init; }

    /// <summary>The artifact's compression.</summary>
    public ArtifactCompression Compression { get; init; }

    /// <summary>The quantised weights' grid.</summary>
    public QuantGrid Grid { get; init; }
}

/// <summary>Budgets (0 = none).</summary>
internal sealed record BudgetSpec(
    long MaxParameters,
    long MaxForwardFlopsPerToken,
    double MaxTrainingFlops,
    long TrainingTokens,
    long MaxWeightBytes,
    long MaxKvCacheBytes)
{
    public static readonly BudgetSpec None = new(0, 0, 0, 0, 0, 0);

    /// <summary>The largest artifact file (uncompressed), in bytes (0 = none).</summary>
    public long MaxArtifactBytes { get; init; }

    /// <summary>The longest training run, in seconds on the project's device profile (0 = none; NaN = not a duration).</summary>
    public double MaxTrainingSeconds { get; init; }

    /// <summary>The longest decoding step of one token, in seconds (0 = none; NaN = not a duration).</summary>
    public double MaxDecodeSeconds { get; init; }

    /// <summary>Characters of training text (0 = none): with <see cref="CharactersPerToken"/>, the training tokens.</summary>
    public long TrainingCharacters { get; init; }

    /// <summary>The tokenizer's declared compression (0 = none).</summary>
    public double CharactersPerToken { get; init; }

    /// <summary>The training tokens: declared, or the declared characters over the compression (rounded up).</summary>
    public long EffectiveTrainingTokens => TrainingTokens > 0 ? TrainingTokens
        : TrainingCharacters > 0 && CharactersPerToken > 0 && TrainingCharacters / CharactersPerToken < 9e18 ? (long)Math.Ceiling(TrainingCharacters / CharactersPerToken) : 0; // beyond: refused by the validator

    /// <summary>This budget, with every unset figure taken from <paramref name="fallback"/> (the project's).</summary>
    public BudgetSpec Over(BudgetSpec fallback) => new(
        MaxParameters > 0 ? MaxParameters : fallback.MaxParameters,
        MaxForwardFlopsPerToken > 0 ? MaxForwardFlopsPerToken : fallback.MaxForwardFlopsPerToken,
        MaxTrainingFlops > 0 ? MaxTrainingFlops : fallback.MaxTrainingFlops,
        TrainingTokens > 0 ? TrainingTokens : fallback.TrainingTokens,
        MaxWeightBytes > 0 ? MaxWeightBytes : fallback.MaxWeightBytes,
        MaxKvCacheBytes > 0 ? MaxKvCacheBytes : fallback.MaxKvCacheBytes)
    {
        TrainingCharacters = TrainingCharacters,
        CharactersPerToken = CharactersPerToken,
        MaxArtifactBytes = MaxArtifactBytes > 0 ? MaxArtifactBytes : fallback.MaxArtifactBytes,
        MaxTrainingSeconds = MaxTrainingSeconds != 0 ? MaxTrainingSeconds : fallback.MaxTrainingSeconds,
        MaxDecodeSeconds = MaxDecodeSeconds != 0 ? MaxDecodeSeconds : fallback.MaxDecodeSeconds,
    };
}

/// <summary>A layer in the stack, in forward order.</summary>
internal abstract record LayerSpec(int Index)
{
    public string Key => SpecKeys.Layer(Index);

    public abstract string KindName { get; }
}

/// <summary>Concatenate the last <paramref name="Window"/> positions (0 = the whole context).</summary>
internal sealed record FlattenSpec(int Index, int Window) : LayerSpec(Index)
{
    public override string KindName => "flatten";

    public int EffectiveWindow(int context) => Window > 0 ? Window : context;
}

/// <summary>A dense layer.</summary>
/// <param name="Dropout">-1 = the model's default.</param>
internal sealed record DenseSpec(int Index, int Units, Act Activation, bool Bias, double Dropout) : LayerSpec(Index)
{
    public override string KindName => "dense";

    /// <summary>Dropout after the activation: given, or the model's.</summary>
    public double EffectiveDropout(double modelDropout) => Dropout >= 0 ? Dropout : modelDropout;
}

/// <summary>Where a model was declared.</summary>
internal enum SpecSource
{
    Attributes,
    Yaml,
}

/// <summary>
/// How heads, key/value heads and FFN width vary across a stack (layer-wise scaling, as OpenELM): per-block
/// lists, or the value of the last block to interpolate to from the stack's value. All empty/0 = uniform.
/// </summary>
internal sealed record BlockAllocation(
    EquatableArray<int> Heads,
    EquatableArray<int> KvHeads,
    EquatableArray<int> FfnHidden,
    EquatableArray<double> FfnMultiplier,
    int HeadsLast,
    int KvHeadsLast,
    int FfnHiddenLast,
    double FfnMultiplierLast)
{
    public static readonly BlockAllocation Uniform = new(EquatableArray<int>.Empty, EquatableArray<int>.Empty, EquatableArray<int>.Empty, EquatableArray<double>.Empty, 0, 0, 0, 0);
}

/// <summary>A stack of transformer blocks.</summary>
/// <param name="Repeat">Applications of the whole stack with shared weights (0 or 1 = once).</param>
/// <param name="FfnHidden">0 = from <paramref name="FfnMultiplier"/>, else 4 × width.</param>
/// <param name="Dropout">-1 = the model's default.</param>
/// <param name="FfnDropout">Dropout inside the FFN, after its activation (nn.TransformerEncoderLayer's); 0 = none.</param>
internal sealed record TransformerSpec(
    int Index,
    int Layers,
    int Repeat,
    int Heads,
    int KvHeads,
    int HeadDim,
    int FfnHidden,
    double FfnMultiplier,
    Act Activation,
    NormKind Norm,
    bool NormBias,
    bool PreNorm,
    bool PackedQkv,
    bool AttentionBias,
    bool FfnBias,
    double Dropout,
    double FfnDropout,
    int BlockRepeat,
    int LoraRank,
    BlockAllocation Allocation) : LayerSpec(Index)
{
    public override string KindName => "transformer";

    /// <summary>Applications of each block, one right after the other (block-wise sharing; 0 or 1 = once).</summary>
    public int EffectiveBlockRepeat => BlockRepeat > 1 ? BlockRepeat : 1;

    /// <summary>The attention's options (init-only settings of <see cref="AttentionConfig"/>, such as QK-norm), on a blank config the planner completes.</summary>
    public AttentionConfig AttentionOptions { get; init; } = AttentionConfig.Blank;

    /// <summary>The FFN's options (init-only settings of <see cref="FeedForwardConfig"/>), on a blank config the planner completes.</summary>
    public FeedForwardConfig FeedForwardOptions { get; init; } = FeedForwardConfig.Blank;

    /// <summary>The block's own options (init-only settings of <see cref="BlockConfig"/>: branch scales, residual mixing, parallel), on a blank config the planner completes.</summary>
    public BlockConfig BlockOptions { get; init; } = BlockConfig.Blank;

    /// <summary>U-Net skip connections across the stack (<see cref="StackStep.UNetSkips"/>).</summary>
    public bool UNetSkips { get; init; }

    /// <summary>
    /// Every block's heads, key/value heads, head size and FFN width: from the per-block lists, or interpolated
    /// linearly from the first block's value to the <c>..._last</c> value (rounded), or the stack's value.
    /// </summary>

    public BlockShape Shape(int block, long width)
    {
        var a = Allocation;
        var heads = a.Heads.Count > 0 ? a.Heads[block] : a.HeadsLast > 0 ? Interpolate(Heads, a.HeadsLast, block) : Heads;
        var kvFirst = KvHeads > 0 ? KvHeads : heads;
        var kv = a.KvHeads.Count > 0 ? a.KvHeads[block] : a.KvHeadsLast > 0 ? Interpolate(kvFirst, a.KvHeadsLast, block) : KvHeads > 0 ? KvHeads : heads;
        var headDim = HeadDim > 0 ? HeadDim : heads > 0 ? width / heads : 0;
        long ffn;
        if (a.FfnHidden.Count > 0)
        {
            ffn = a.FfnHidden[block];
        }
        else if (a.FfnMultiplier.Count > 0)
        {
            ffn = (long)Math.Round(a.FfnMultiplier[block] * width, MidpointRounding.AwayFromZero);
        }
        else if (a.FfnHiddenLast > 0)
        {
            ffn = Interpolate(EffectiveFfnHidden(width), a.FfnHiddenLast, block);
        }
        else if (a.FfnMultiplierLast > 0)
        {
            var first = FfnMultiplier > 0 ? FfnMultiplier : 4.0;
            ffn = (long)Math.Round((first + ((a.FfnMultiplierLast - first) * Fraction(block))) * width, MidpointRounding.AwayFromZero);
        }
        else
        {
            ffn = EffectiveFfnHidden(width);
        }

        return new BlockShape(heads, kv, headDim, ffn);
    }

    private double Fraction(int block) => Layers > 1 ? (double)block / (Layers - 1) : 0;

    private int Interpolate(long first, long last, int block) => (int)Math.Round(first + ((last - first) * Fraction(block)), MidpointRounding.AwayFromZero);

    public int EffectiveRepeat => Repeat > 1 ? Repeat : 1;

    /// <summary>Dropout on attention probabilities and residual branches: given, or the model's.</summary>
    public double EffectiveDropout(double modelDropout) => Dropout >= 0 ? Dropout : modelDropout;

    /// <summary>The FFN width: given, or multiplier × width, or 4 × width (validation checks it is whole).</summary>
    public long EffectiveFfnHidden(long width) =>
        FfnHidden > 0 ? FfnHidden : (long)Math.Round((FfnMultiplier > 0 ? FfnMultiplier : 4.0) * width);
}
