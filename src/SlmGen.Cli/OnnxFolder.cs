using System;
using System.IO;
using SlmGen.Artifacts;
using SlmGen.Data;
using SlmGen.Inference;
using SlmGen.Interop;
using SlmGen.IO;
using SlmGen.Onnx;

namespace SlmGen.Cli;

/// <summary>
/// The folder an app ships (<c>slmgen export … --onnx</c> writes it as OUT/onnx): the full-sequence graph
/// (<c>model.onnx</c>), the decoding step with its KV cache (<c>model-decode.onnx</c>, for models that predict every
/// position), the tokenizer in Hugging Face's form (<c>tokenizer.json</c>) and <c>slmgen-model.json</c> — what
/// SlmGen.Inference's <see cref="LanguageModel.Load"/> reads, without TorchSharp.
/// </summary>
public static class OnnxFolder
{
    /// <summary>The manifest of <paramref name="model"/>'s ONNX form.</summary>
    public static ModelManifest Manifest(SlmModel model, SpecialTokens? special, bool hasTokenizer, string weights) => new(
        ModelManifest.FormatName,
        ModelManifest.CurrentVersion,
        model.GetName(),
        model.DeclaredVocab,
        (int)model.Vocab,
        model.Context,
        model.PredictsEveryPosition ? "model-decode.onnx" : null,
        "model.onnx",
        hasTokenizer ? "tokenizer.json" : null,
        special?.Bos,
        special?.Eos,
        weights,
        $"SlmGen {typeof(SlmModel).Assembly.GetName().Version?.ToString(3)}");

    /// <summary>Writes the folder; returns the manifest and the reason there is no tokenizer, if there is none.</summary>
    public static (ModelManifest Manifest, string? TokenizerSkipped) Write(SlmModel model, ITokenizer? tokenizer, string directory, bool artifactForm, ArtifactOptions? artifactOptions)
    {
        Directory.CreateDirectory(directory);
        model.eval();
        AtomicFile.Write(Path.Combine(directory, "model.onnx"), s => s.Write(artifactForm ? OnnxExport.BuildQuantized(model, false, artifactOptions) : OnnxExport.Build(model)));
        if (model.PredictsEveryPosition)
        {
            AtomicFile.Write(Path.Combine(directory, "model-decode.onnx"), s => s.Write(artifactForm ? OnnxExport.BuildQuantized(model, true, artifactOptions) : OnnxExport.Build(model, decode: true)));
        }

        SpecialTokens? special = null;
        string? skipped = tokenizer is null ? "no tokenizer was given (--data, --tokenizer or the spec's tokenizer): generate from token ids" : null;
        if (tokenizer is not null)
        {
            try
            {
                special = HuggingFaceTokenizer.Write(tokenizer, directory, model.Context);
            }
            catch (NotSupportedException e)
            {
                skipped = e.Message;
            }
        }

        var manifest = Manifest(model, special, special is not null, artifactForm ? $"artifact: {model.ArtifactPlan.Describe()} (4- and 8-bit matrices as MatMulNBits, the rest dequantized to fp32)" : "fp32");
        AtomicFile.Write(Path.Combine(directory, ModelManifest.FileName), s => s.Write(System.Text.Encoding.UTF8.GetBytes(manifest.ToJson())));
        return (manifest, skipped);
    }
}
