using System.CommandLine;
using SlmGen.Interop;
using SlmGen.Training;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen export</c>: the PyTorch twin (and the Hugging Face form where there is one).</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "the model's YAML spec" };
        var weights = new Option<string?>("--checkpoint", "--weights") { Description = "a checkpoint (.ckpt) or safetensors weights; without it, freshly initialised weights" };
        var best = new Option<bool>("--best") { Description = "a checkpoint's best-validation weights" };
        var output = new Option<string>("--out") { Description = "the export folder", Required = true };
        var noHf = new Option<bool>("--no-hf") { Description = "skip the Hugging Face form" };
        var command = new Command("export", "Write model.py (the PyTorch twin), config.json and model.safetensors, and hf/ for GPT-2- or Llama-shaped models.") { spec, weights, best, output, noHf };
        command.SetAction(r =>
        {
            using var model = Cli.Model(r.GetValue(spec)!, r.GetValue(weights), TorchSharp.torch.CPU, r.GetValue(best));
            var result = model.ExportPyTorch(r.GetValue(output)!, huggingFace: !r.GetValue(noHf));
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(result.Directory)}: model.py, config.json, model.safetensors");
            AnsiConsole.MarkupLine(result.HuggingFace is null ? $"no Hugging Face form: {Markup.Escape(result.HuggingFaceSkipped ?? string.Empty)}" : $"Hugging Face form: {Markup.Escape(result.HuggingFace)}");
            return 0;
        });
        return command;
    }
}
