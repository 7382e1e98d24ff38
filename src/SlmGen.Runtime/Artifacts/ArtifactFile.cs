using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using SlmGen.Interop;
using SlmGen.IO;
using SlmGen.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Artifacts;

/// <summary>What to put in an artifact beside the weights, and how to quantise and compress it.</summary>
public sealed record ArtifactOptions
{
    /// <summary>The tokenizer as a Hugging Face tokenizer.json (null: none is embedded, as for GPT-2's and cl100k's public ones).</summary>
    public string? TokenizerJson { get; init; }

    /// <summary>The compression (null: the model's plan's).</summary>
    public ArtifactCompression? Compression { get; init; }

    /// <summary>For GPTQ: each linear weight's input statistics (<see cref="Calibration.Hessians"/>).</summary>
    public IReadOnlyDictionary<string, Tensor>? Hessians { get; init; }
}

/// <summary>An artifact as written.</summary>
/// <param name="Path">The file.</param>
/// <param name="Bytes">Its uncompressed bytes (the safetensors file).</param>
/// <param name="PredictedBytes">The layout's figure for them (<see cref="ArtifactLayout.FileBytes"/>): equal, or the writer would have stopped.</param>
/// <param name="FileBytes">The file's bytes (compressed when <paramref name="Compression"/> is not None).</param>
/// <param name="Compression">The compression.</param>
/// <param name="QuantizeSeconds">Seconds spent quantising.</param>
/// <param name="CompressSeconds">Seconds spent compressing.</param>
public sealed record ArtifactWritten(string Path, long Bytes, long PredictedBytes, long FileBytes, ArtifactCompression Compression, double QuantizeSeconds, double CompressSeconds)
{
    /// <summary>Uncompressed over compressed bytes.</summary>
    public double Ratio => (double)Bytes / FileBytes;
}

/// <summary>
/// The shipped artifact (docs/artifact.md): one safetensors file in the layout of <see cref="ArtifactLayout"/> — every
/// quantised weight as bit-packed codes and scales, the other tensors at the plan's type, the architecture JSON, the
/// tokenizer — sealed with a SHA-256 of the whole file, optionally compressed. The reader checks the digest, that the
/// file holds the model's architecture and precision plan, and every tensor's name, type and shape against the layout
/// the model implies before it decodes a byte; a damaged or mismatched file is refused with its path.
/// </summary>
public static class ArtifactFile
{
    /// <summary>Quantises <paramref name="model"/> by its plan and writes the artifact to <paramref name="path"/> (atomically).</summary>
    public static ArtifactWritten Write(SlmModel model, string path, ArtifactOptions? options = null)
    {
        options ??= new ArtifactOptions();
        var clock = Stopwatch.StartNew();
        var (data, predicted) = Encode(model, options);
        var quantizeSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var compression = options.Compression ?? model.ArtifactPlan.Compression;
        var file = ArtifactCompressor.Compress(data, compression);
        var compressSeconds = clock.Elapsed.TotalSeconds;
        AtomicFile.Write(path, s => s.Write(file));
        return new ArtifactWritten(path, data.Length, predicted, file.Length, compression, quantizeSeconds, compressSeconds);
    }

    /// <summary>The artifact's bytes, uncompressed, and the layout's prediction of their count (checked equal).</summary>
    public static (byte[] Data, long Predicted) Encode(SlmModel model, ArtifactOptions? options = null) => Encode(model, options, null);

    /// <summary>
    /// The quantised weights as the artifact stores them, by parameter name: codes [rows, columns] and scales [rows, groups]
    /// rounded to their storage type (the ONNX export's MatMulNBits weights come from these).
    /// </summary>
    public static Dictionary<string, (QuantizedMatrix Matrix, int Bits)> QuantizedWeights(SlmModel model, ArtifactOptions? options = null)
    {
        var sink = new Dictionary<string, (QuantizedMatrix, int)>(StringComparer.Ordinal);
        Encode(model, options, sink);
        return sink;
    }

    private static (byte[] Data, long Predicted) Encode(SlmModel model, ArtifactOptions? options, Dictionary<string, (QuantizedMatrix, int)>? sink)
    {
        options ??= new ArtifactOptions();
        var plan = model.ArtifactPlan;
        var inventory = Inventory(model);
        var architecture = Encoding.UTF8.GetBytes(model.Architecture);
        var tokenizer = options.TokenizerJson is null ? null : Encoding.UTF8.GetBytes(options.TokenizerJson);
        var layout = ArtifactLayout.Tensors(inventory, plan, architecture.Length, tokenizer?.Length ?? -1);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tensors = new List<(string Name, Tensor Tensor)>();
        for (var i = 0; i < layout.Count; i++)
        {
            var entry = layout[i];
            if (entry.Name == ArtifactLayout.ArchitectureTensor)
            {
                tensors.Add((entry.Name, tensor(architecture)));
            }
            else if (entry.Name == ArtifactLayout.TokenizerTensor)
            {
                tensors.Add((entry.Name, tensor(tokenizer!)));
            }
            else if (entry.Bits > 0)
            {
                var source = entry.Source!;
                var weight = parameters[source.Name];
                var method = ArtifactPlan.NeedsCalibration(plan.Quantizer) && !(options.Hessians?.ContainsKey(source.Name) ?? false) ? Quantizer.Mse : plan.Quantizer;
                if (ArtifactPlan.NeedsCalibration(plan.Quantizer) && options.Hessians is null)
                {
                    throw new InvalidOperationException($"The plan quantises with {ArtifactPlan.Name(plan.Quantizer)}, which needs a calibration sample: give ArtifactOptions.Hessians (Calibration.Hessians over training windows).");
                }

                var q = WeightQuantizer.Quantize(weight, entry.Bits, plan.Group, plan.Scales, method, ArtifactPlan.NeedsCalibration(method) ? options.Hessians![source.Name] : null, plan.Grid);
                if (sink is not null)
                {
                    // Kept past this scope for the caller (it disposes them).
                    sink[source.Name] = (new QuantizedMatrix(q.Codes.DetachFromDisposeScope(), q.Scales.DetachFromDisposeScope()), entry.Bits);
                }

                tensors.Add((entry.Name, tensor(BitPacking.Pack(q.Codes.contiguous().data<sbyte>().ToArray(), entry.Bits, plan.Grid))));
                var scales = layout[i + 1];
                tensors.Add((scales.Name, q.Scales.reshape(scales.Shape).to(DType(plan.Scales)).contiguous()));
                i++;
            }
            else
            {
                tensors.Add((entry.Name, parameters[entry.Source!.Name].detach().cpu().to(DType(plan.Others)).contiguous()));
            }
        }

        using var stream = new MemoryStream();
        SafetensorsFile.Write(stream, tensors, new Dictionary<string, string> { [ArtifactLayout.FormatKey] = ArtifactLayout.FormatName }, ArtifactLayout.DigestKey);
        var predicted = ArtifactLayout.FileBytes(layout);
        if (stream.Length != predicted)
        {
            throw new InvalidOperationException($"The artifact of {model.GetName()} came to {stream.Length:N0} bytes, its layout says {predicted:N0}: a bug in SlmGen (please report it with the spec).");
        }

        return (stream.ToArray(), predicted);
    }

    /// <summary>Reads the artifact at <paramref name="path"/> into <paramref name="model"/> (its weights become the dequantized ones; fake quantisation is switched off, the weights being on their grid already).</summary>
    /// <exception cref="InvalidDataException">The file is damaged, not an artifact, or holds another model or plan.</exception>
    public static ArtifactContents Load(SlmModel model, string path)
    {
        var file = InputFile.ReadAllBytes(path, "artifact", ArtifactCompressor.MaxBytes);
        var (data, compression) = ArtifactCompressor.Decompress(file, path);
        var contents = Decode(model, data, path) with { Compression = compression, FileBytes = file.Length };
        return contents;
    }

    /// <summary>The model as its artifact restores it: the weights quantised, stored and read back in memory (what <see cref="Load"/> gives from the written file).</summary>
    public static ArtifactContents RoundTrip(SlmModel model, ArtifactOptions? options = null)
    {
        var (data, _) = Encode(model, options);
        return Decode(model, data, $"the in-memory artifact of {model.GetName()}");
    }

    /// <summary>Checks an artifact's bytes against the model and its plan, and sets the model's parameters to the weights they hold.</summary>
    private static ArtifactContents Decode(SlmModel model, byte[] data, string path)
    {
        using var stream = new MemoryStream(data, writable: false);
        var header = SafetensorsFile.ReadHeader(stream, path);
        if (!header.Metadata.TryGetValue(ArtifactLayout.FormatKey, out var format) || format != ArtifactLayout.FormatName)
        {
            throw new InvalidDataException($"{path} is not an SlmGen artifact ({ArtifactLayout.FormatName}): its format is '{format ?? "(none)"}'.");
        }

        SafetensorsFile.VerifyDigest(stream, header, ArtifactLayout.DigestKey);
        var architectureEntry = header.Entries.FirstOrDefault(e => e.Name == ArtifactLayout.ArchitectureTensor)
            ?? throw new InvalidDataException($"{path} has no {ArtifactLayout.ArchitectureTensor} tensor.");
        var architecture = Encoding.UTF8.GetString(Bytes(stream, header, architectureEntry));
        if (architecture != model.Architecture)
        {
            throw new InvalidDataException($"{path} holds {Describe(architecture)}; it cannot be loaded into {model.GetName()} (fingerprint {model.Fingerprint}, precision plan: {model.ArtifactPlan.Describe()}).");
        }

        var tokenizerEntry = header.Entries.FirstOrDefault(e => e.Name == ArtifactLayout.TokenizerTensor);
        var plan = model.ArtifactPlan;
        var layout = ArtifactLayout.Tensors(Inventory(model), plan, architectureEntry.End - architectureEntry.Begin, tokenizerEntry is null ? -1 : tokenizerEntry.End - tokenizerEntry.Begin);
        if (layout.Count != header.Entries.Count)
        {
            throw new InvalidDataException($"{path} holds {header.Entries.Count:N0} tensors; {model.GetName()}'s artifact has {layout.Count:N0} (damaged or another layout).");
        }

        for (var i = 0; i < layout.Count; i++)
        {
            var (expected, actual) = (layout[i], header.Entries[i]);
            if (expected.Name != actual.Name || expected.DType != actual.DType || !expected.Shape.SequenceEqual(actual.Shape))
            {
                throw new InvalidDataException($"{path}: tensor {i} is '{actual.Name}' {actual.DType} [{string.Join(", ", actual.Shape)}]; the layout of {model.GetName()} has '{expected.Name}' {expected.DType} [{string.Join(", ", expected.Shape)}] (damaged or another layout).");
            }
        }

        // One scope holds every tensor made below until the weights are in the model: a temporary whose only owner is
        // the garbage collector can be freed while libtorch still reads it (docs/backends.md, "Tensors have the same race").
        using var scope = NewDisposeScope();
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var i = 0; i < layout.Count; i++)
        {
            var entry = layout[i];
            if (entry.Source is null)
            {
                continue;
            }

            var source = entry.Source;
            if (entry.Bits > 0)
            {
                var codes = BitPacking.Unpack(Bytes(stream, header, header.Entries[i]), source.Elements, entry.Bits, $"{path}: {entry.Name}", plan.Grid);
                var scales = Read(stream, header, header.Entries[i + 1], plan.Scales).reshape(source.Rows, -1);
                using var codeTensor = tensor(codes).reshape(source.Rows, source.Columns);
                weights[source.Name] = FakeQuant.Dequantize(codeTensor, scales, plan.Group, plan.Grid);
                scales.Dispose();
                i++;
            }
            else
            {
                weights[source.Name] = Read(stream, header, header.Entries[i], plan.Others).reshape(source.Shape);
            }
        }

        using (no_grad())
        {
            foreach (var (name, parameter) in model.named_parameters())
            {
                using var value = weights[name];
                parameter.copy_(value.to(parameter.dtype).to(parameter.device));
            }
        }

        model.FakeQuantEnabled = false;
        var tokenizer = tokenizerEntry is null ? null : Encoding.UTF8.GetString(Bytes(stream, header, tokenizerEntry));
        return new ArtifactContents(path, architecture, tokenizer, data.Length, data.Length, ArtifactCompression.None);
    }

    /// <summary>The parameter inventory of the model's plan, checked against the module's parameters.</summary>
    public static List<ParameterTensor> Inventory(SlmModel model)
    {
        var inventory = ParameterInventory.Of(model.Plan);
        var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape, StringComparer.Ordinal);
        var expected = inventory.ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);
        var missing = expected.Keys.Where(k => !actual.TryGetValue(k, out var s) || !s.SequenceEqual(expected[k])).ToList();
        var extra = actual.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
        {
            throw new InvalidOperationException($"{model.GetName()}'s parameters differ from its plan's inventory (missing or reshaped: {string.Join(", ", missing.Take(5))}; unexpected: {string.Join(", ", extra.Take(5))}): a bug in SlmGen.");
        }

        return inventory;
    }

    private static ScalarType DType(StoreType type) => WeightQuantizer.ScalarTypeOf(type);

    private static byte[] Bytes(Stream stream, SafetensorsHeader header, SafetensorsEntry entry)
    {
        var bytes = new byte[entry.End - entry.Begin];
        stream.Position = header.DataStart + entry.Begin;
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static Tensor Read(Stream stream, SafetensorsHeader header, SafetensorsEntry entry, StoreType type)
    {
        var t = empty(entry.Shape, dtype: DType(type));
        stream.Position = header.DataStart + entry.Begin;
        stream.ReadExactly(t.bytes);
        var result = t.to(ScalarType.Float32);
        t.Dispose();
        return result;
    }

    private static string Describe(string architecture)
    {
        try
        {
            using var doc = JsonDocument.Parse(architecture);
            var root = doc.RootElement;
            return $"'{root.GetProperty("name").GetString()}' (fingerprint {root.GetProperty("fingerprint").GetString()})";
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return "an architecture that is not SlmGen's";
        }
    }
}

/// <summary>What an artifact held besides the weights.</summary>
/// <param name="Path">Where it came from.</param>
/// <param name="ArchitectureJson">The model's architecture JSON.</param>
/// <param name="TokenizerJson">The embedded Hugging Face tokenizer.json, or null.</param>
/// <param name="Bytes">Its uncompressed bytes.</param>
/// <param name="FileBytes">The file's bytes.</param>
/// <param name="Compression">The file's compression.</param>
public sealed record ArtifactContents(string Path, string ArchitectureJson, string? TokenizerJson, long Bytes, long FileBytes, ArtifactCompression Compression);
