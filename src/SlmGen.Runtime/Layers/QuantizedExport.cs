using System;
using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using SlmGen.Interop;
using SlmGen.Training;
using static TorchSharp.torch;
using SlmGen.IO;

namespace SlmGen.Layers;

/// <summary>
/// Writes a model trained with quantisation-aware training as it would be deployed, in one safetensors file: every quantised weight as its integer codes (<c>NAME.codes</c>, int8, one code a
/// byte, in [−levels, levels]) and its per-row scales (<c>NAME.scales</c>, fp16), with its precision as a
/// one-element int8 tensor (<c>NAME.bits</c>); every other parameter as it is. The weight is codes × scales,
/// exactly the fake-quantised weight the model trained with (to fp16 rounding of the scales).
/// </summary>
public static class QuantizedExport
{
    /// <summary>The quantised weights of <paramref name="model"/>: parameter name → bits.</summary>
    public static IReadOnlyDictionary<string, int> QuantizedWeights(SlmModel model)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, module) in model.named_modules())
        {
            if (module is QuantLinear q)
            {
                result[name.Length == 0 ? "weight" : name + ".weight"] = q.Bits;
            }
        }

        if (model.EmbeddingWeightBits > 0)
        {
            result["wte.weight"] = model.EmbeddingWeightBits;
        }

        return result;
    }

    /// <summary>Writes the file.</summary>
    public static void Save(SlmModel model, string path)
    {
        var quantized = QuantizedWeights(model);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.named_parameters())
        {
            var value = parameter.detach().cpu();
            if (quantized.TryGetValue(name, out var bits))
            {
                tensors[name + ".codes"] = FakeQuant.Codes(value, bits);
                tensors[name + ".scales"] = FakeQuant.Scales(value, bits).reshape(-1).to(ScalarType.Float16);
                tensors[name + ".bits"] = tensor(new sbyte[] { (sbyte)bits });
            }
            else
            {
                tensors[name] = value;
            }
        }

        AtomicFile.Write(path, stream => SafetensorsFile.Write(stream, tensors.Select(kv => (kv.Key, kv.Value)).ToList()));
    }

    /// <summary>Reads a file written by <see cref="Save"/> back as full-precision weights (codes × scales), by parameter name.</summary>
    public static Dictionary<string, Tensor> LoadDequantized(string path)
    {
        using var stream = System.IO.File.OpenRead(path);
        var raw = SafetensorsFile.ReadTensors(stream, SafetensorsFile.ReadHeader(stream, path));
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, value) in raw)
        {
            if (name.EndsWith(".codes", StringComparison.Ordinal))
            {
                var stem = name.Substring(0, name.Length - ".codes".Length);
                result[stem] = value.to(ScalarType.Float32) * raw[stem + ".scales"].to(ScalarType.Float32).unsqueeze(1);
            }
            else if (!name.EndsWith(".scales", StringComparison.Ordinal) && !name.EndsWith(".bits", StringComparison.Ordinal))
            {
                result[name] = value;
            }
        }

        return result;
    }
}
