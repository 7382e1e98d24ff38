using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using SlmGen.Data;
using SlmGen.Data.Tokenizers;
using Spectre.Console;
using SlmGen.IO;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen tokenizer</c>: train a byte-level BPE, and measure tokenizers on the corpora.</summary>
public static class TokenizerCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "the training text — the training split of " + SlmGen.Data.Corpora.Described + " — or a UTF-8 text file", Required = true };
        var vocab = new Option<int>("--vocab") { Description = $"vocabulary size, {BpeTrainer.MinVocabulary} to 1,048,576 (the 256 bytes, the merges and {BpeTrainer.EndOfText})", Required = true }
            .Check(v => v >= BpeTrainer.MinVocabulary && v <= BpeTrainer.MaxVocabulary, $"must be from {BpeTrainer.MinVocabulary} to {BpeTrainer.MaxVocabulary:N0}");
        var output = new Option<string>("--out") { Description = "the folder for vocab.json, merges.txt and stats.json", Required = true };
        var train = new Command("train", "Train a byte-level BPE (GPT-2's scheme) and write GPT-2's files, which Microsoft.ML.Tokenizers and Hugging Face tokenizers load.") { data, vocab, output };
        train.SetAction(r =>
        {
            var name = r.GetValue(data)!;
            var text = File.Exists(name) ? Cli.ReadText(name, "data", SlmGen.IO.InputFile.TextLimit) : Corpora.Text(name).Train;
            var clock = Stopwatch.StartNew();
            var result = BpeTrainer.Train(text, r.GetValue(vocab));
            var seconds = clock.Elapsed.TotalSeconds;
            var dir = r.GetValue(output)!;
            BpeTrainer.Save(result, dir);
            var tokenizer = BpeTextTokenizer.Load(dir);
            var stats = TokenizerStats.Measure(tokenizer.Name, tokenizer, text, name + " (training text)");
            File.WriteAllText(Path.Combine(dir, "stats.json"), JsonSerializer.Serialize(new { tokenizer = tokenizer.Name, trained_on = name, vocab = result.VocabSize, merges = result.Merges.Count, seconds, stats.Characters, stats.Bytes, stats.Tokens, characters_per_token = stats.CharactersPerToken, bytes_per_token = stats.BytesPerToken }, new JsonSerializerOptions { WriteIndented = true }));
            AnsiConsole.MarkupLine($"{Markup.Escape(tokenizer.Name)}: {result.VocabSize:N0} tokens ({result.Merges.Count:N0} merges) trained on {Markup.Escape(name)} in {seconds:0.0} s; {stats.CharactersPerToken:0.000} characters, {stats.BytesPerToken:0.000} bytes per token on its training text; wrote {Markup.Escape(dir)}");
            return 0;
        });

        var tokenizers = new Option<string[]>("--tokenizer") { Description = "tokenizers: chars, bytes, words, gpt2, cl100k, bpe:DIR (repeat the option)", Required = true, AllowMultipleArgumentsPerToken = true };
        var corpora = new Option<string[]>("--data") { Description = "corpora (default: shakespeare-char, ptb, wikitext2)", AllowMultipleArgumentsPerToken = true };
        var json = new Option<string?>("--json") { Description = "also write the table as JSON lines to this file" };
        var stats = new Command("stats", "Tokens per character and per byte of every split of the corpora, for each tokenizer (tokenized splits are cached).") { tokenizers, corpora, json };
        stats.SetAction(r =>
        {
            var names = r.GetValue(corpora) is { Length: > 0 } c ? c : new[] { "shakespeare-char", "ptb", "wikitext2" };
            var table = new Table().Border(TableBorder.Markdown).AddColumns("corpus", "tokenizer", "vocabulary", "split", "characters", "tokens", "tokens/char", "chars/token", "bytes/token");
            var lines = new List<string>();
            foreach (var corpus in names)
            {
                var text = Corpora.Text(corpus);
                foreach (var spec in r.GetValue(tokenizers)!.Select(TokenizerSpec.Parse))
                {
                    var dataset = Corpora.Load(corpus, spec);
                    foreach (var (split, part, tokens) in new[] { ("train", text.Train, dataset.Train), ("validation", text.Validation, dataset.Validation), ("test", text.Test, dataset.Test) })
                    {
                        var s = new TokenizerStats(dataset.Name, corpus + "/" + split, part.Length, System.Text.Encoding.UTF8.GetByteCount(part), tokens.Length);
                        table.AddRow(corpus, Markup.Escape(spec.Name(dataset.Tokenizer)), dataset.VocabSize.ToString("N0"), split, s.Characters.ToString("N0"), s.Tokens.ToString("N0"),
                            (1 / s.CharactersPerToken).ToString("0.0000"), s.CharactersPerToken.ToString("0.000"), s.BytesPerToken.ToString("0.000"));
                        lines.Add(JsonSerializer.Serialize(new { corpus, tokenizer = spec.Name(dataset.Tokenizer), vocab = dataset.VocabSize, split, s.Characters, s.Bytes, s.Tokens, characters_per_token = s.CharactersPerToken, bytes_per_token = s.BytesPerToken }));
                    }
                }
            }

            AnsiConsole.Write(table);
            if (r.GetValue(json) is { } file)
            {
                File.WriteAllLines(file, lines);
            }

            return 0;
        });

        var source = new Option<string>("--tokenizer") { Description = "the BPE tokenizer folder to renumber (vocab.json and merges.txt)", Required = true };
        var by = new Option<TokenOrdering>("--by") { Description = "frequency: the most frequent token on --data first; merges: the bytes, then each merge's result in merge order", DefaultValueFactory = _ => TokenOrdering.Frequency };
        var orderData = new Option<string?>("--data") { Description = "the text whose token counts set a frequency order — the training split of " + SlmGen.Data.Corpora.Described + " — or a UTF-8 text file" };
        var orderOut = new Option<string>("--out") { Description = "the folder for the renumbered tokenizer (vocab.json, merges.txt, order.json)", Required = true };
        var reorder = new Command("reorder", "Renumber a BPE tokenizer's ids (the same tokens and merges) by frequency on a training text or by merge order: a grouped head's groups are runs of consecutive ids.") { source, by, orderData, orderOut };
        reorder.Validators.Add(r =>
        {
            if (r.GetValue(by) == TokenOrdering.Frequency && r.GetValue(orderData) is null)
            {
                r.AddError("--by frequency needs --data: the training text whose token counts set the order");
            }
        });
        reorder.SetAction(r =>
        {
            var tokenizer = BpeTextTokenizer.Load(r.GetValue(source)!);
            var name = r.GetValue(orderData);
            var text = name is null ? string.Empty : File.Exists(name) ? Cli.ReadText(name, "data", SlmGen.IO.InputFile.TextLimit) : Corpora.Text(name).Train;
            var dir = r.GetValue(orderOut)!;
            var result = TokenOrder.Write(tokenizer, r.GetValue(by), text, name ?? string.Empty, dir);
            var renumbered = BpeTextTokenizer.Load(dir);
            var moved = result.NewId.Where((n, old) => n != old).Count();
            AnsiConsole.MarkupLine($"{Markup.Escape(renumbered.Name)}: {Markup.Escape(tokenizer.Name)} renumbered by {r.GetValue(by).ToString().ToLowerInvariant()}{(name is null ? string.Empty : " on " + Markup.Escape(name))} ({moved:N0} of {result.NewId.Length:N0} ids moved); wrote {Markup.Escape(dir)}");
            return 0;
        });

        return new Command("tokenizer", "Train, measure and renumber tokenizers.") { train, stats, reorder };
    }
}
