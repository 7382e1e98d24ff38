using System.CommandLine;
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
        var weights = new Option<string>("--checkpoint", "--weights") { Description = "a checkpoint (.ckpt) or a safetensors state_dict (e.g. trained in PyTorch)", Required = true };
        var best = new Option<bool>("--best") { Description = "a checkpoint's best-validation weights instead of its latest" };
        var data = new Option<string>("--data") { Description = "shakespeare-char, shakespeare-study, ptb, wikitext2, or a text file", Required = true };
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
        var command = new Command("eval", "Evaluate weights on the whole validation or test split: non-overlapping windows (a tail shorter than a window is not scored), or sliding ones with --stride (every token after the first scored).") { spec, weights, best, data, tokenizer, split, device, stride };
        command.SetAction(r =>
        {
            Cli.EnsureDataExists(r.GetValue(data)!);
            var dev = Devices.Resolve(r.GetValue(device));
            using var model = Cli.Model(r.GetValue(spec)!, r.GetValue(weights), dev, r.GetValue(best));
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

            var result = Evaluator.EvaluateText(model, dataset[which], dataset.Tokenizer, 32, dev, n > 0 ? EvalProtocol.Sliding(n) : EvalProtocol.Sequential());
            AnsiConsole.MarkupLine($"{which.ToString().ToLowerInvariant()} NLL [bold]{result.Nll:0.0000}[/] nats/token, {result.BitsPerToken:0.0000} bits/token, [bold]{result.BitsPerCharacter:0.0000} bits/character[/], {result.BitsPerByte:0.0000} bits/byte, perplexity {result.Perplexity:0.00}, over {result.Tokens:N0} tokens ({result.Characters:N0} characters); {Markup.Escape(result.Protocol ?? string.Empty)}");
            return 0;
        });
        return command;
    }
}
