using System;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SlmGen.Inference;

/// <summary>
/// <c>slmgen-model.json</c>: what an exported model folder holds and how to drive it — written by <c>slmgen export --onnx</c>,
/// read by <see cref="LanguageModel.Load"/>. Paths are relative to the folder.
/// </summary>
/// <param name="Format">Always <see cref="FormatName"/>.</param>
/// <param name="FormatVersion">The layout's version (<see cref="CurrentVersion"/>); a newer one is refused.</param>
/// <param name="Name">The model's name (its class).</param>
/// <param name="Vocabulary">Token ids the tokenizer has; generated ids are below it.</param>
/// <param name="Logits">The width of a logits row (above <paramref name="Vocabulary"/> when the vocabulary is padded).</param>
/// <param name="Context">The longest sequence the model reads (its positions); longer text is read in windows.</param>
/// <param name="DecodeGraph">The decoding step with a KV cache (docs/interop.md), or null for a model that reads whole windows.</param>
/// <param name="ForwardGraph">The full-sequence forward.</param>
/// <param name="Tokenizer">A Hugging Face tokenizer.json, or null when the export had no tokenizer (token ids only).</param>
/// <param name="BeginningOfText">The beginning-of-text id, if the tokenizer has one.</param>
/// <param name="EndOfText">The end-of-text id, if the tokenizer has one: generation stops there unless told otherwise.</param>
/// <param name="Weights">How the weights are stored in the graphs ("fp32", or the artifact's precision plan).</param>
/// <param name="Producer">The SlmGen version that wrote the folder.</param>
public sealed record ModelManifest(
    string Format,
    int FormatVersion,
    string Name,
    int Vocabulary,
    int Logits,
    int Context,
    string? DecodeGraph,
    string ForwardGraph,
    string? Tokenizer,
    int? BeginningOfText,
    int? EndOfText,
    string Weights,
    string Producer)
{
    /// <summary>The file's name inside an exported folder.</summary>
    public const string FileName = "slmgen-model.json";

    /// <summary>The value of <see cref="Format"/>.</summary>
    public const string FormatName = "slmgen-onnx";

    /// <summary>The layout this library reads and writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The manifest as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ManifestJson.Default.ModelManifest);

    /// <summary>Reads and checks <c>slmgen-model.json</c> in <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidDataException">A missing, unreadable or inconsistent manifest, with the reason.</exception>
    public static ModelManifest Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: an exported model folder is what `slmgen export SPEC --onnx --out DIR` writes into DIR/onnx.", path);
        }

        if (new FileInfo(path).Length > 1 << 20)
        {
            throw new InvalidDataException($"{path}: {new FileInfo(path).Length:N0} bytes, not a model manifest (at most 1 MiB).");
        }

        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(File.ReadAllText(path), ManifestJson.Default.ModelManifest);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a model manifest: {e.Message}", e);
        }

        (manifest ?? throw new InvalidDataException($"{path}: empty manifest.")).Check(path);
        return manifest;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first inconsistent field.</summary>
    public void Check(string where)
    {
        string? problem =
            Format != FormatName ? $"format is \"{Format}\", expected \"{FormatName}\""
            : FormatVersion < 1 || FormatVersion > CurrentVersion ? $"format version {FormatVersion}; this library reads 1 to {CurrentVersion} (a newer SlmGen.Inference reads newer folders)"
            : Vocabulary < 1 ? $"vocabulary {Vocabulary}"
            : Logits < Vocabulary ? $"logits width {Logits} is below the vocabulary {Vocabulary}"
            : Context < 1 ? $"context {Context}"
            : BeginningOfText is { } b && (b < 0 || b >= Vocabulary) ? $"beginning-of-text id {b} outside the vocabulary"
            : EndOfText is { } e && (e < 0 || e >= Vocabulary) ? $"end-of-text id {e} outside the vocabulary"
            : !Relative(ForwardGraph) ? $"forward graph \"{ForwardGraph}\" is not a file name inside the folder"
            : DecodeGraph is { } d && !Relative(d) ? $"decode graph \"{d}\" is not a file name inside the folder"
            : Tokenizer is { } t && !Relative(t) ? $"tokenizer \"{t}\" is not a file name inside the folder"
            : null;
        if (problem is not null)
        {
            throw new InvalidDataException($"{where}: {problem}.");
        }
    }

    private static bool Relative(string? name) =>
        !string.IsNullOrEmpty(name) && name.IndexOfAny(new[] { '/', '\\' }) < 0 && name != "." && name != ".." && !Path.IsPathRooted(name);
}

/// <summary>The manifest's JSON, source-generated (trimming- and AOT-safe).</summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ModelManifest))]
internal sealed partial class ManifestJson : JsonSerializerContext
{
}
