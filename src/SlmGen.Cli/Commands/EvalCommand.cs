using System.CommandLine;
using TorchSharp;
using SlmGen.Data;
using SlmGen.Training;
using Spectre.Console;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen eval</c>: NLL, bits and perplexity of trained weights on a split.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "the model's YAML spec" };
        var weights = new Option<string?>("--checkpoint", "--weights") { Description = "a checkpoint (.ckpt) or a safetensors state_dict (e.g. trained in PyTorch); with --artifact, the model before the round trip" };
        var artifact = new Option<string?>("--artifact") { Description = "an artifact (.slmq, written by slmgen train --artifact): the model as it ships, dequantized; with --checkpoint, both are scored side by side" };
        var best = new Option<bool>("--best") { Description = "a checkpoint's best-validation weights instead of its latest" };
        var data = new Option<string>("--data") { Description = SlmGen.Data.Corpora.Described + ", or a text file", Required = true };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "chars, bytes, words, gpt2, cl100k or bpe:DIR (default: the corpus's own)" };
        var split = new Option<string>("--split") { Description = "validation or test", DefaultValueFactory = _ => "validation" };
        split.AcceptOnlyFromAmong("validation", "test");
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var stride = new Option<int>("--stride") { Description = "slide windows every N tokens, each token scored once with at least context − N tokens before it (0: non-overlapping windows)", DefaultValueFactory = _ => 0 };
        stride.Validators.Add(v =>
        {
            if (v.GetValueOrDefault<int>() < 0)
            {
                v.AddError("--stride must be 0 (non-overlapping windows) or a positive number of tokens up to the context.");
            }
        });
        var resultFile = new Option<string?>("--result") { Description = "also write the figures (and, with --artifact, the artifact's bytes and the scores before and after) to this JSON file" };
        var command = new Command("eval", "Evaluate weights on the whole validation or test split: non-overlapping windows (a tail shorter than a window is not scored), or sliding ones with --stride (every token after the first scored).") { spec, weights, artifact, best, data, tokenizer, split, device, stride, resultFile };
        command.SetAction(r =>
        {
            if (r.GetValue(weights) is null && r.GetValue(artifact) is null)
            {
                throw new CliException("eval needs --checkpoint (trained weights), --artifact (a shipped artifact), or both (scored side by side).");
            }

            Cli.EnsureDataExists(r.GetValue(data)!);
            if (r.GetValue(artifact) is { } artifactPath)
            {
                Cli.EnsureReadable(artifactPath, "artifact");
            }

            var dev = Devices.Resolve(r.GetValue(device));
            using var model = Cli.Model(r.GetValue(spec)!, r.GetValue(weights), dev, r.GetValue(best));
            SlmGen.Artifacts.ArtifactContents? shipped = null;
            using var restored = r.GetValue(artifact) is null ? null : (SlmModel)System.Activator.CreateInstance(model.GetType())!;
            if (restored is not null)
            {
                shipped = SlmGen.Artifacts.ArtifactFile.Load(restored, r.GetValue(artifact)!);
                restored.to(dev);
            }
            var dataset = Cli.Data(r.GetValue(data)!, Cli.Tokenizer(r.GetValue(tokenizer), model, r.GetValue(spec)!));
            if (dataset.VocabSize != model.DeclaredVocab)
            {
                throw new CliException($"the model's vocabulary is {model.DeclaredVocab:N0}, the data's {dataset.VocabSize:N0}.");
            }

            var which = r.GetValue(split) == "test" ? Split.Test : Split.Validation;
            var n = r.GetValue(stride);
            if (n > model.Context)
            {
                throw new CliException($"--stride {n} is longer than the model's context ({model.Context}); give 1 … {model.Context}.");
            }

            var protocol = n > 0 ? EvalProtocol.Sliding(n) : EvalProtocol.Sequential();
            if (restored is not null)
            {
                var after = Evaluator.EvaluateText(restored, dataset[which], dataset.Tokenizer, 32, dev, protocol);
                AnsiConsole.MarkupLine($"artifact {Markup.Escape(shipped!.Path)}: {shipped.FileBytes:N0} bytes{(shipped.Compression == SlmGen.ArtifactCompression.None ? string.Empty : $" ({SlmGen.ArtifactPlan.Name(shipped.Compression)}; {shipped.Bytes:N0} uncompressed)")}; {Markup.Escape(restored.ArtifactPlan.Describe())}");
                EvalResult? before = null;
                if (r.GetValue(weights) is null)
                {
                    Print(which, after);
                }
                else
                {
                    before = Evaluator.EvaluateText(model, dataset[which], dataset.Tokenizer, 32, dev, protocol);
                    var table = new Table().AddColumns("split", "bits/char before", "after", "Δ", "bits/byte before", "after", "Δ", "NLL before", "after");
                    table.AddRow(which.ToString().ToLowerInvariant(), $"{before.BitsPerCharacter:0.0000}", $"{after.BitsPerCharacter:0.0000}", $"{after.BitsPerCharacter - before.BitsPerCharacter:+0.0000;-0.0000;0.0000}",
                        $"{before.BitsPerByte:0.0000}", $"{after.BitsPerByte:0.0000}", $"{after.BitsPerByte - before.BitsPerByte:+0.0000;-0.0000;0.0000}", $"{before.Nll:0.0000}", $"{after.Nll:0.0000}");
                    AnsiConsole.Write(table);
                }

                Record(r.GetValue(resultFile), which, before, after, restored, shipped);
                return 0;
            }

            var alone = Evaluator.EvaluateText(model, dataset[which], dataset.Tokenizer, 32, dev, protocol);
            Print(which, alone);
            Record(r.GetValue(resultFile), which, alone, null, model, null);
            return 0;
        });
        return command;
    }

    /// <summary>The figures as one JSON object (before: the weights given; after: the artifact's).</summary>
    private static void Record(string? path, Split which, EvalResult? before, EvalResult? after, SlmModel model, SlmGen.Artifacts.ArtifactContents? shipped)
    {
        if (path is null)
        {
            return;
        }

        object? Figures(EvalResult? e) => e is null ? null : new { nll = e.Nll, bits_per_token = e.BitsPerToken, bits_per_character = e.BitsPerCharacter, bits_per_byte = e.BitsPerByte, tokens = e.Tokens, characters = e.Characters, protocol = e.Protocol };
        var record = new
        {
            model = model.GetName(), split = which.ToString().ToLowerInvariant(), before = Figures(before), after = Figures(after),
            artifact = shipped is null ? null : new { path = shipped.Path, bytes = shipped.Bytes, file_bytes = shipped.FileBytes, compression = SlmGen.ArtifactPlan.Name(shipped.Compression), stated_bytes = model.Cost.ArtifactBytes, plan = model.ArtifactPlan.Describe() },
            commit = Cli.Commit(), command = "slmgen " + string.Join(' ', System.Environment.GetCommandLineArgs()[1..]),
        };
        SlmGen.IO.AtomicFile.Write(path, s => System.Text.Json.JsonSerializer.Serialize(s, record));
    }

    private static void Print(Split which, EvalResult result) =>
        AnsiConsole.MarkupLine($"{which.ToString().ToLowerInvariant()} NLL [bold]{result.Nll:0.0000}[/] nats/token, {result.BitsPerToken:0.0000} bits/token, [bold]{result.BitsPerCharacter:0.0000} bits/character[/], {result.BitsPerByte:0.0000} bits/byte, perplexity {result.Perplexity:0.00}, over {result.Tokens:N0} tokens ({result.Characters:N0} characters); {Markup.Escape(result.Protocol ?? string.Empty)}");
}
