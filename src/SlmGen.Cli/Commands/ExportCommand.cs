using System.CommandLine;
using SlmGen.Interop;
using SlmGen.Training;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen export</c>: the PyTorch twin (and the Hugging Face form where there is one).</summary>
public static class ExportCommand
{
    private const string ModelManifestName = SlmGen.Inference.ModelManifest.FileName;

    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "the model's YAML spec" };
        var weights = new Option<string?>("--checkpoint", "--weights") { Description = "a checkpoint (.ckpt) or safetensors weights; without it, freshly initialised weights" };
        var best = new Option<bool>("--best") { Description = "a checkpoint's best-validation weights" };
        var output = new Option<string>("--out") { Description = "the export folder", Required = true };
        var noHf = new Option<bool>("--no-hf") { Description = "skip the Hugging Face form" };
        var data = new Option<string?>("--data") { Description = "the data the model was trained on (its characters or words are the tokenizer's vocabulary): the Hugging Face form then has the tokenizer files" };
        var tokenizerOption = new Option<string?>("--tokenizer") { Description = "chars, bytes, words or bpe:DIR (default: the spec's declared tokenizer, else the corpus's own)" };
        var onnx = new Option<bool>("--onnx") { Description = "also write OUT/onnx: model.onnx (the full-sequence forward), model-decode.onnx (the decoding step with a KV cache), tokenizer.json and slmgen-model.json, the folder SlmGen.Inference loads in an app (docs/interop.md)" };
        var onnxQuantized = new Option<bool>("--onnx-artifact") { Description = "with --onnx: the ONNX form of the artifact instead — the spec's 4- and 8-bit matrices as MatMulNBits, the rest dequantized (docs/interop.md)" };
        var gguf = new Option<string?>("--gguf") { Description = "also write OUT/model.gguf for llama.cpp (LLamaSharp, Ollama): f32, f16, q8_0 or q4_0 matrices, the tokenizer embedded; Llama- and GPT-2-shaped designs (docs/interop.md)" };
        gguf.AcceptOnlyFromAmong("f32", "f16", "q8_0", "q4_0");
        var command = new Command("export", "Write model.py (the PyTorch twin), config.json and model.safetensors, and hf/ (with the tokenizer's files) for GPT-2- or Llama-shaped models.") { spec, weights, best, output, noHf, data, tokenizerOption, onnx, onnxQuantized, gguf };
        command.SetAction(r =>
        {
            if (r.GetValue(data) is { } given)
            {
                Cli.EnsureDataExists(given);
            }

            using var model = Cli.Model(r.GetValue(spec)!, r.GetValue(weights), TorchSharp.torch.CPU, r.GetValue(best));
            var tokenizerName = Cli.Tokenizer(r.GetValue(tokenizerOption), model, r.GetValue(spec)!);
            SlmGen.Data.ITokenizer? tokenizer = r.GetValue(data) is { } dataName
                ? Cli.Data(dataName, tokenizerName).Tokenizer
                : tokenizerName is { } declared && SlmGen.Data.Tokenizers.TokenizerSpec.Parse(declared) is { Kind: not ("chars" or "words") } fixedVocabulary
                    ? fixedVocabulary.Create((string.Empty, string.Empty, string.Empty)) // bytes, gpt2, cl100k, a BPE folder: no text needed
                    : null;
            if (r.GetValue(onnx) && SlmGen.Onnx.OnnxExport.Unsupported(model) is { } reason)
            {
                throw new CliException($"--onnx: {reason}.");
            }

            var ggufType = r.GetValue(gguf) switch
            {
                null => (GgmlType?)null,
                "f32" => GgmlType.F32,
                "f16" => GgmlType.F16,
                "q8_0" => GgmlType.Q8_0,
                _ => GgmlType.Q4_0,
            };
            if (ggufType is not null && GgufExport.Unsupported(model, tokenizer) is { } ggufReason)
            {
                throw new CliException($"--gguf: {ggufReason}.");
            }

            var result = model.ExportPyTorch(r.GetValue(output)!, huggingFace: !r.GetValue(noHf), tokenizer);
            if (r.GetValue(onnx))
            {
                var artifactForm = r.GetValue(onnxQuantized);
                SlmGen.Artifacts.ArtifactOptions? artifactOptions = null;
                if (artifactForm && SlmGen.ArtifactPlan.NeedsCalibration(model.ArtifactPlan.Quantizer))
                {
                    // GPTQ calibrates on the training split of the data the model was trained on.
                    var calibrationData = r.GetValue(data) ?? throw new CliException("--onnx-artifact: the spec quantises with GPTQ, which calibrates on the training data: give --data.");
                    artifactOptions = ArtifactRoundTrip.Options(model, Cli.Data(calibrationData, tokenizerName), 128, TorchSharp.torch.CPU);
                }

                var folder = System.IO.Path.Combine(r.GetValue(output)!, "onnx");
                var (manifest, tokenizerSkipped) = OnnxFolder.Write(model, tokenizer, folder, artifactForm, artifactOptions);
                long Bytes(string name) => new System.IO.FileInfo(System.IO.Path.Combine(folder, name)).Length;
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(folder)} (for SlmGen.Inference: docs/interop.md):");
                AnsiConsole.MarkupLine($"  model.onnx: input_ids (int64 [[batch, sequence]]) → logits (float [[batch, sequence, {model.Vocab:N0}]]), opset {SlmGen.Onnx.OnnxExport.Opset}, {Bytes("model.onnx"):N0} bytes");
                if (manifest.DecodeGraph is { } decode)
                {
                    AnsiConsole.MarkupLine($"  {decode}: the decoding step with a KV cache, {Bytes(decode):N0} bytes");
                }
                else
                {
                    AnsiConsole.MarkupLine("  no decoding graph: the model reads whole windows (a flatten)");
                }

                AnsiConsole.MarkupLine(tokenizerSkipped is null ? $"  tokenizer.json, {ModelManifestName}; weights: {Markup.Escape(manifest.Weights)}" : $"  {ModelManifestName} without a tokenizer: {Markup.Escape(tokenizerSkipped)}");
            }

            if (ggufType is { } type)
            {
                var path = System.IO.Path.Combine(r.GetValue(output)!, "model.gguf");
                var report = GgufExport.Write(model, tokenizer!, path, type);
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(path)}: GGUF v3, llama.cpp architecture {report.Architecture}, {type} matrices, {report.Bytes:N0} bytes, the tokenizer embedded");
                foreach (var note in report.Notes)
                {
                    AnsiConsole.MarkupLine($"  {Markup.Escape(note)}");
                }
            }

            AnsiConsole.MarkupLine($"wrote {Markup.Escape(result.Directory)}: model.py, config.json, model.safetensors");
            AnsiConsole.MarkupLine(result.HuggingFace is null ? $"no Hugging Face form: {Markup.Escape(result.HuggingFaceSkipped ?? string.Empty)}" : $"Hugging Face form: {Markup.Escape(result.HuggingFace)}");
            if (result.HuggingFace is not null)
            {
                AnsiConsole.MarkupLine(result.TokenizerSkipped is null ? "  with the tokenizer (tokenizer.json, tokenizer_config.json) and generation_config.json" : $"  without tokenizer files: {Markup.Escape(result.TokenizerSkipped)}");
            }

            return 0;
        });
        return command;
    }
}
