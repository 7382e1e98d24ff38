using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using SlmGen.Training;
using static TorchSharp.torch;
using SlmGen.IO;

namespace SlmGen.Interop;

/// <summary>The files an export wrote.</summary>
/// <param name="Directory">The export folder.</param>
/// <param name="HuggingFace">The Hugging Face folder (<c>hf/</c>), or null.</param>
/// <param name="HuggingFaceSkipped">Why no Hugging Face form was written (null when it was).</param>
/// <param name="TokenizerSkipped">Why the Hugging Face form has no tokenizer files (null when it has them, or has no form).</param>
public sealed record ExportResult(string Directory, string? HuggingFace, string? HuggingFaceSkipped, string? TokenizerSkipped = null);

/// <summary>
/// The PyTorch twin of a generated model: <c>model.py</c> (one self-contained nn.Module, PyTorch ≥ 2.1, built
/// from the architecture), <c>config.json</c> (the architecture and the compile-time costs) and
/// <c>model.safetensors</c> (the weights under the TorchSharp state_dict's names, which are the twin's). The
/// same safetensors file loads into both; weights trained in PyTorch load back with <see cref="ImportWeights"/>.
/// </summary>
public static class PyTorchTwin
{
    /// <summary>Metadata key of the architecture fingerprint in weight files SlmGen writes.</summary>
    public const string FingerprintKey = "slmgen.fingerprint";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The twin's Python source (the same for every model: it reads config.json).</summary>
    public static string Source
    {
        get
        {
            using var stream = typeof(PyTorchTwin).Assembly.GetManifestResourceStream("SlmGen.Interop.twin.model.py")
                               ?? throw new InvalidOperationException("The PyTorch twin's source is missing from SlmGen.Runtime.");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }

    /// <summary>The config.json of a model: its architecture and its compile-time costs.</summary>
    public static JsonObject Config(SlmModel model)
    {
        var config = JsonNode.Parse(model.Architecture)!.AsObject();
        var c = model.Cost;
        config["costs"] = new JsonObject
        {
            ["parameters"] = c.Parameters,
            ["forwardFlopsPerToken"] = c.ForwardFlopsPerToken,
            ["trainingFlopsPerToken"] = c.TrainingFlopsPerToken,
            ["trainingFlopsPerTokenMathAttention"] = c.TrainingFlopsPerTokenMathAttention,
            ["attentionScoreFlopsPerToken"] = c.AttentionScoreFlopsPerToken,
            ["weightBytesDeclared"] = c.WeightBytesDeclared,
            ["components"] = new JsonArray(c.Components.Select(x => (JsonNode)new JsonObject
            {
                ["name"] = x.Name,
                ["kind"] = x.Kind,
                ["parameters"] = x.Parameters,
                ["attentionScoreFlopsPerToken"] = x.AttentionScoreFlopsPerToken,
            }).ToArray()),
        };
        return config;
    }

    /// <summary>
    /// Writes model.py, config.json and model.safetensors into <paramref name="directory"/>, and, when the model
    /// has the shape of GPT-2 or Llama, their Hugging Face form into <c>hf/</c> (<see cref="HuggingFaceExport"/>).
    /// </summary>
    /// <param name="model">The model (its current weights).</param>
    /// <param name="directory">The export folder.</param>
    /// <param name="huggingFace">Also write the Hugging Face form where the model has one.</param>
    /// <param name="tokenizer">The tokenizer the model was trained with: its Hugging Face files go into <c>hf/</c> with the special ids in the configs (<see cref="HuggingFaceTokenizer"/>).</param>
    public static ExportResult Export(SlmModel model, string directory, bool huggingFace = true, SlmGen.Data.ITokenizer? tokenizer = null)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.Write(Path.Combine(directory, "model.py"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(Source)));
        AtomicFile.Write(Path.Combine(directory, "config.json"), s => JsonSerializer.Serialize(s, Config(model), Indented));
        SaveWeights(model, Path.Combine(directory, "model.safetensors"));
        if (!huggingFace)
        {
            return new ExportResult(directory, null, "not asked for");
        }

        var why = HuggingFaceExport.Unsupported(model);
        if (why is not null)
        {
            return new ExportResult(directory, null, why);
        }

        var hf = Path.Combine(directory, "hf");
        SpecialTokens? special = null;
        string? tokenizerSkipped = null;
        if (tokenizer is null)
        {
            tokenizerSkipped = "no tokenizer was given (slmgen export --data/--tokenizer; PyTorchTwin.Export's tokenizer)";
        }
        else if (tokenizer.VocabSize != model.DeclaredVocab)
        {
            tokenizerSkipped = $"the tokenizer has {tokenizer.VocabSize:N0} tokens, the model {model.DeclaredVocab:N0}";
        }
        else
        {
            try
            {
                special = HuggingFaceTokenizer.Write(tokenizer, hf, model.Context);
            }
            catch (NotSupportedException e)
            {
                tokenizerSkipped = e.Message;
            }
        }

        HuggingFaceExport.Export(model, hf, special);
        return new ExportResult(directory, hf, null, tokenizerSkipped);
    }

    /// <summary>Writes the model's weights (fp32, state_dict names) as safetensors, with its name and fingerprint in the metadata.</summary>
    public static void SaveWeights(SlmModel model, string path)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var tensors = model.named_parameters().Select(p => (p.name, p.parameter.detach().to(ScalarType.Float32))).ToList();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["slmgen.model"] = model.GetName(), [FingerprintKey] = model.Fingerprint };
        AtomicFile.Write(path, s => SafetensorsFile.Write(s, tensors, metadata));
    }

    /// <summary>
    /// Loads weights from a safetensors state_dict — the twin's, saved by PyTorch (<c>save_file(model.state_dict(), …)</c>),
    /// an export, or an SlmGen checkpoint's weights — into <paramref name="model"/>: every parameter must be
    /// there with its shape and nothing else (names starting with '_' — a checkpoint's optimizer state — are
    /// ignored); a file that records another architecture's fingerprint is refused.
    /// </summary>
    /// <exception cref="InvalidDataException">A name or shape does not match, or the file is not readable.</exception>
    public static void ImportWeights(SlmModel model, string path)
    {
        using var stream = SlmGen.IO.InputFile.OpenRead(path, "weights file");
        var header = SafetensorsFile.ReadHeader(stream, path);
        if (header.Metadata.TryGetValue(FingerprintKey, out var fingerprint) && fingerprint != model.Fingerprint)
        {
            throw new InvalidDataException($"{path} holds weights of architecture {fingerprint} ({header.Metadata.GetValueOrDefault("slmgen.model", "?")}); {model.GetName()} is {model.Fingerprint}.");
        }

        var tensors = SafetensorsFile.ReadTensors(stream, header, name => !name.StartsWith('_'));
        try
        {
            var parameters = model.named_parameters().ToList();
            var missing = parameters.Where(p => !tensors.ContainsKey(p.name)).Select(p => p.name).ToList();
            var extra = tensors.Keys.Except(parameters.Select(p => p.name)).ToList();
            if (missing.Count > 0 || extra.Count > 0)
            {
                throw new InvalidDataException($"{path} does not hold {model.GetName()}'s parameters: missing {Listed(missing)}; unexpected {Listed(extra)}.");
            }

            using var noGrad = no_grad();
            foreach (var (name, p) in parameters)
            {
                var t = tensors[name];
                if (!t.shape.SequenceEqual(p.shape))
                {
                    throw new InvalidDataException($"{path} stores '{name}' as [{string.Join(", ", t.shape)}], {model.GetName()} has [{string.Join(", ", p.shape)}].");
                }

                // Bits are never reinterpreted: a floating-point parameter takes floating-point values only (F64, F32,
                // F16 or BF16, converted to the parameter's type); an integer or boolean tensor in its place is refused.
                if (t.is_floating_point() != p.is_floating_point())
                {
                    throw new InvalidDataException($"{path} stores '{name}' as {SafetensorsFile.DTypeOf(t.dtype)}, but {model.GetName()}'s parameter is {SafetensorsFile.DTypeOf(p.dtype)}: a floating-point weight must be stored as F64, F32, F16 or BF16.");
                }

                using var scope = NewDisposeScope(); // holds the conversions while libtorch copies from them
                p.copy_(t.to(p.dtype).to(p.device));
            }
        }
        finally
        {
            foreach (var t in tensors.Values)
            {
                t.Dispose();
            }
        }
    }

    private static string Listed(List<string> names) => names.Count == 0 ? "none" : string.Join(", ", names.Take(5)) + (names.Count > 5 ? $" and {names.Count - 5} more" : string.Empty);
}

/// <summary>Export of a model as a PyTorch twin: <c>model.ExportPyTorch(dir)</c>.</summary>
public static class PyTorchExportExtensions
{
    /// <summary>Writes model.py, config.json and model.safetensors (and hf/ for GPT-2- or Llama-shaped models) into <paramref name="directory"/>.</summary>
    public static ExportResult ExportPyTorch(this SlmModel model, string directory, bool huggingFace = true, SlmGen.Data.ITokenizer? tokenizer = null) => PyTorchTwin.Export(model, directory, huggingFace, tokenizer);
}
