using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using SlmGen.Data;
using SlmGen.Data.Tokenizers;

namespace SlmGen.Runtime.Tests;

/// <summary>SlmGen's BPE trainer, read back by Microsoft.ML.Tokenizers; GPT-2's and cl100k's tokenizers; compression statistics.</summary>
[HoldTensors]
public class TokenizerTests
{
    private static readonly Lazy<string> Shakespeare = new(() => DataFiles.ReadVerified("tinyshakespeare/input.txt"));

    private static string TempDir() => Directory.CreateTempSubdirectory("slmgen-bpe-").FullName;

    [Theory]
    [InlineData(257)]
    [InlineData(300)]
    [InlineData(1024)]
    public void A_trained_bpe_loads_in_microsoft_ml_tokenizers_and_round_trips_held_out_text(int vocab)
    {
        var text = Shakespeare.Value;
        var train = text[..200_000];
        var heldOut = text[^20_000..] + " naïve café — 東京 🙂 \t\n  x";
        var dir = TempDir();
        var result = BpeTrainer.Train(train, vocab);
        Assert.Equal(vocab, result.VocabSize);
        BpeTrainer.Save(result, dir);

        var tokenizer = BpeTextTokenizer.Load(dir);
        Assert.Equal(vocab, tokenizer.VocabSize);
        var ids = tokenizer.Encode(heldOut);
        var bad = ids.Select((id, i) => (id, i)).Where(x => x.id < 0 || x.id >= vocab).ToList();
        Assert.True(bad.Count == 0, string.Join(", ", bad.Select(x => $"{x.id} at {x.i}: {tokenizer.Decode(ids.Skip(Math.Max(0, x.i - 3)).Take(6))}")));
        Assert.Equal(heldOut, tokenizer.Decode(ids));
        if (vocab > 257)
        {
            Assert.True(ids.Length < System.Text.Encoding.UTF8.GetByteCount(heldOut), "merges shorten the text");
        }

        // The files are GPT-2's: vocab.json maps each token once; merges.txt lists each merge in order.
        var vocabJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "vocab.json"))).RootElement.EnumerateObject().ToList();
        Assert.Equal(vocab, vocabJson.Select(p => p.Value.GetInt32()).Distinct().Count());
        var merges = File.ReadAllLines(Path.Combine(dir, "merges.txt"));
        Assert.Equal("#version: 0.2", merges[0]);
        Assert.Equal(result.Merges.Count, merges.Length - 1);
    }

    [Fact]
    public void Renumbering_by_frequency_permutes_the_ids_only_and_merge_order_restores_the_trainers()
    {
        var text = Shakespeare.Value;
        var dir = TempDir();
        BpeTrainer.Save(BpeTrainer.Train(text[..150_000], 700), dir);
        var source = BpeTextTokenizer.Load(dir);
        var training = text[..150_000];
        var frequency = TempDir();
        var result = TokenOrder.Write(source, TokenOrdering.Frequency, training, "shakespeare (first 150,000 characters)", frequency);
        var renumbered = BpeTextTokenizer.Load(frequency);
        Assert.NotEqual(source.Sha256, renumbered.Sha256);

        // Every id of any text maps through the permutation; the text decodes the same; the permutation is one.
        var heldOut = text[^30_000..] + " naïve café — 東京 🙂";
        var oldIds = source.Encode(heldOut);
        Assert.Equal(oldIds.Select(id => result.NewId[id]).ToArray(), renumbered.Encode(heldOut));
        Assert.Equal(heldOut, renumbered.Decode(renumbered.Encode(heldOut)));
        Assert.Equal(Enumerable.Range(0, 700), result.NewId.OrderBy(i => i));

        // Counts fall with the id and are the training text's: id 0 is its most frequent token.
        var counts = source.Encode(training).GroupBy(id => id).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.True(result.Counts.Zip(result.Counts.Skip(1)).All(p => p.First >= p.Second));
        Assert.Equal(counts.Values.Max(), result.Counts[0]);
        Assert.All(counts, kv => Assert.Equal(kv.Value, result.Counts[result.NewId[kv.Key]]));
        using (var order = JsonDocument.Parse(File.ReadAllText(Path.Combine(frequency, "order.json"))))
        {
            Assert.Equal("frequency", order.RootElement.GetProperty("ordered_by").GetString());
            Assert.Equal(counts.Values.Sum(), order.RootElement.GetProperty("tokens").GetInt64());
        }

        // Merge order gives back the trainer's numbering, byte for byte.
        var merges = TempDir();
        TokenOrder.Write(renumbered, TokenOrdering.Merges, string.Empty, string.Empty, merges);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "vocab.json")), File.ReadAllBytes(Path.Combine(merges, "vocab.json")));

        // Not into its own folder; a vocabulary whose ids are not a permutation is refused, naming the file.
        Assert.Throws<ArgumentException>(() => TokenOrder.Write(source, TokenOrdering.Merges, string.Empty, string.Empty, dir));
        var bad = TempDir();
        File.WriteAllText(Path.Combine(bad, "vocab.json"), "{\"a\": 0, \"b\": 0}");
        Assert.Contains(Path.Combine(bad, "vocab.json"), Assert.Throws<InvalidDataException>(() => TokenOrder.ReadVocabulary(bad)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Training_is_deterministic_and_merges_the_most_frequent_pair_first()
    {
        var text = string.Concat(Enumerable.Repeat("abab abab abc ", 50));
        var a = BpeTrainer.Train(text, 263);
        var b = BpeTrainer.Train(text, 263);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Merges, b.Merges);
        Assert.Equal(("a", "b"), a.Merges[0]); // "ab" occurs 250 times, more than any other pair
    }

    [Fact]
    public void Gpt2_and_cl100k_come_from_the_packages_and_round_trip()
    {
        var text = Shakespeare.Value[..5_000];
        foreach (var tokenizer in new ITokenizer[] { TiktokenTextTokenizer.Gpt2(), TiktokenTextTokenizer.Cl100k() })
        {
            var ids = tokenizer.Encode(text);
            Assert.Equal(text, tokenizer.Decode(ids));
            Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
            var stats = TokenizerStats.Measure("t", tokenizer, text, "shakespeare[:5000]");
            Assert.InRange(stats.CharactersPerToken, 2.5, 6);
        }

        Assert.Equal(new[] { 15496, 995 }, TiktokenTextTokenizer.Gpt2().Encode("Hello world")); // GPT-2's published ids
    }
}

/// <summary>Tokenized corpora: every tokenizer over the repository's corpora, cached with checksums.</summary>
[HoldTensors]
public class TokenizedCorpusTests
{
    [Fact]
    public void Tokenized_splits_are_cached_and_a_damaged_cache_file_is_made_again()
    {
        var cache = Directory.CreateTempSubdirectory("slmgen-tokens-").FullName;
        Environment.SetEnvironmentVariable("SLMGEN_CACHE", cache);
        try
        {
            var spec = TokenizerSpec.Parse("bpe:" + Path.Combine(Path.GetDirectoryName(DataFiles.Root())!, "data", "tokenizers", "bpe-shakespeare-1024"));
            var first = Corpora.Load("shakespeare-char", spec);
            var file = Directory.GetFiles(cache, "*.safetensors").Single();
            var second = Corpora.Load("shakespeare-char", spec);
            Assert.Equal(first.Train, second.Train);
            Assert.Equal(first.Validation, second.Validation);
            Assert.Equal(1024, first.VocabSize);
            Assert.Equal("shakespeare-char-bpe-shakespeare-1024", first.Name);

            var bytes = File.ReadAllBytes(file);
            bytes[^5] ^= 0x40;
            File.WriteAllBytes(file, bytes);
            var remade = Corpora.Load("shakespeare-char", spec);
            Assert.Equal(first.Train, remade.Train);
            Assert.NotEqual(bytes, File.ReadAllBytes(file));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SLMGEN_CACHE", null);
        }
    }

    [Fact]
    public void The_committed_statistics_are_what_the_tokenizers_give_on_tiny_shakespeare()
    {
        var root = Path.GetDirectoryName(DataFiles.Root())!;
        var rows = File.ReadLines(Path.Combine(root, "data", "tokenizers", "stats.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.GetProperty("corpus").GetString() == "shakespeare-char" && r.GetProperty("split").GetString() == "validation").ToList();
        Assert.Equal(7, rows.Count);
        var text = Corpora.Text("shakespeare-char").Validation;
        foreach (var row in rows)
        {
            var name = row.GetProperty("tokenizer").GetString()!;
            var spec = TokenizerSpec.Parse(name.StartsWith("bpe-", StringComparison.Ordinal) ? "bpe:" + Path.Combine(root, "data", "tokenizers", name) : name);
            var tokenizer = spec.Create(Corpora.Text("shakespeare-char"));
            Assert.Equal(row.GetProperty("Tokens").GetInt64(), tokenizer.Encode(text).LongLength);
            Assert.Equal(row.GetProperty("vocab").GetInt32(), tokenizer.VocabSize);
        }
    }

    [Fact]
    public void An_unknown_tokenizer_or_a_folder_without_files_is_a_clear_error()
    {
        Assert.Contains("Unknown tokenizer 'sentencepiece'", Assert.Throws<ArgumentException>(() => TokenizerSpec.Parse("sentencepiece")).Message);
        var empty = Directory.CreateTempSubdirectory("slmgen-empty-").FullName;
        Assert.Contains("vocab.json", Assert.Throws<FileNotFoundException>(() => TokenizerSpec.Parse("bpe:" + empty).Create(("a b", "a", "b"))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train("abc", 256));
    }
}

/// <summary>Costs and NLL per unit of text.</summary>
[HoldTensors]
public class TextCostTests
{
    [Fact]
    public void Per_character_costs_are_per_token_costs_times_tokens_per_character()
    {
        var text = Corpora.Text("shakespeare-char").Train;
        var tokenizer = TokenizerSpec.Parse("gpt2").Create(("", "", ""));
        var stats = TokenizerStats.Measure("gpt2", tokenizer, text, "shakespeare train");
        var cost = SlmGen.Samples.BabyGpt.Costs;
        var perText = new TextCost(cost, stats);
        var tokensPerChar = (double)stats.Tokens / stats.Characters;
        Assert.Equal(cost.ForwardFlopsPerToken * tokensPerChar, perText.ForwardFlopsPerCharacter, 6);
        Assert.Equal(cost.TrainingFlopsPerToken * tokensPerChar, perText.TrainingFlopsPerCharacter, 6);
        Assert.Equal(cost.TrainingFlopsPerToken * (double)stats.Tokens / stats.Bytes, perText.TrainingFlopsPerByte, 6);
        Assert.Equal(cost.Context * (double)stats.Characters / stats.Tokens, perText.ContextCharacters, 9);
        Assert.Equal(perText.TrainingFlopsPerCharacter * 1e6, perText.TrainingFlopsForCharacters(1e6), 3);
    }

    [Fact]
    public void Bits_per_character_of_a_character_model_are_its_nats_per_character_over_ln_2()
    {
        var data = Corpora.TinyShakespeare(CharSplit.NanoGpt);
        SlmGen.Training.Devices.Seed(3);
        using var model = new SlmGen.Samples.CharAttention();
        var result = SlmGen.Training.Evaluator.EvaluateText(model, data.Validation[..4000], data.Tokenizer, 8, TorchSharp.torch.CPU);
        Assert.Equal(result.Tokens, result.Characters);
        Assert.Equal(result.Nll / Math.Log(2), result.BitsPerCharacter!.Value, 12);
        Assert.Equal(result.BitsPerToken, result.BitsPerCharacter!.Value, 12);
    }

    [Fact]
    public void Bits_per_character_of_a_bpe_model_count_the_characters_its_tokens_cover()
    {
        var root = Path.GetDirectoryName(DataFiles.Root())!;
        var spec = TokenizerSpec.Parse("bpe:" + Path.Combine(root, "data", "tokenizers", "bpe-shakespeare-1024"));
        var text = Corpora.Text("shakespeare-char");
        var tokenizer = spec.Create(text);
        var tokens = tokenizer.Encode(text.Validation[..5000]);
        SlmGen.Training.Devices.Seed(3);
        using var model = new SlmGen.Samples.BpeShakespeare1024();
        var result = SlmGen.Training.Evaluator.EvaluateText(model, tokens, tokenizer, 8, TorchSharp.torch.CPU);
        var windows = (tokens.Length - 129) / 128 + 1; // starts 0, 128, ... while start + 128 < length
        Assert.Equal(windows * 128L, result.Tokens);
        Assert.Equal(tokenizer.Decode(tokens.Skip(1).Take(windows * 128)).Length, result.Characters);
        Assert.Equal(result.Nll * result.Tokens / Math.Log(2) / result.Characters!.Value, result.BitsPerCharacter!.Value, 12);
        Assert.True(result.BitsPerCharacter < result.BitsPerToken, "a BPE token covers more than one character");
    }
}

/// <summary>The Hugging Face check of the GPU machine, read back.</summary>
[HoldTensors]
public class HuggingFaceTokenizerRecordTests
{
    [Fact]
    public void Every_committed_bpe_encodes_identically_in_hugging_face_tokenizers()
    {
        var root = Path.GetDirectoryName(DataFiles.Root())!;
        var records = File.ReadLines(Path.Combine(root, "results", "tokenizers", "hf-h200.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(r => r.TryGetProperty("tokenizer", out _)).ToList();
        var folders = Directory.GetDirectories(Path.Combine(root, "data", "tokenizers"), "bpe-*").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(folders, records.Select(r => r.GetProperty("tokenizer").GetString()).Distinct().Order());
        Assert.All(records, r => Assert.True(r.GetProperty("equal").GetBoolean() && r.GetProperty("decodes_back").GetBoolean(), r.ToString()));

        // The ids Hugging Face agreed with are today's: the held-out text encodes to as many ids here.
        var text = Corpora.Text("shakespeare-char").Test;
        foreach (var folder in folders)
        {
            var tokenizer = BpeTextTokenizer.Load(Path.Combine(root, "data", "tokenizers", folder!));
            var record = records.Single(r => r.GetProperty("tokenizer").GetString() == folder && r.GetProperty("text").GetString() == "shakespeare-char/test");
            Assert.Equal(record.GetProperty("ids").GetInt32(), tokenizer.Encode(text).Length);
        }
    }
}
