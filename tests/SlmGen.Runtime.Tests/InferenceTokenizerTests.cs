using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using SlmGen.Data;
using SlmGen.Data.Tokenizers;
using SlmGen.Inference;
using SlmGen.Interop;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// SlmGen.Inference's tokenizer.json reader against the tokenizers SlmGen trains on: the same ids for real text of every
/// corpus, the same text back; streaming pieces add up to the decoded text; unknown parts are refused by name.
/// </summary>
public class InferenceTokenizerTests
{
    public static IEnumerable<object[]> Kinds() => new[] { "chars", "bytes", "words:ptb", "words:wikitext2", "bpe-shakespeare-1024", "bpe-wikitext2-1024", "bpe-wikitext2-8192", "gpt2", "cl100k" }.Select(k => new object[] { k });

    private static (ITokenizer Tokenizer, string Text) Load(string kind)
    {
        var root = Path.GetDirectoryName(DataFiles.Root())!;
        return kind switch
        {
            "chars" => (Corpora.TinyShakespeare().Tokenizer, Corpora.Text("shakespeare-char").Test[..20_000]),
            "bytes" => (new ByteTokenizer(), Corpora.Text("shakespeare-char").Test[..5_000] + " naïve café — 東京 🙂 \t\n  x"),
            "words:ptb" => (Corpora.PennTreebank().Tokenizer, Corpora.Text("ptb").Test[..20_000]),
            "words:wikitext2" => (Corpora.WikiText2().Tokenizer, Corpora.Text("wikitext2").Test[..20_000]),
            "gpt2" => (TiktokenTextTokenizer.Gpt2(), Corpora.Text("wikitext2").Test[..20_000] + " naïve café — 東京 🙂 \t\n  x 12345 DON'T<|endoftext|>next"),
            "cl100k" => (TiktokenTextTokenizer.Cl100k(), Corpora.Text("wikitext2").Test[..20_000] + " naïve café — 東京 🙂 \t\n  x 12345 DON'T\r\n\r\n<|endoftext|>next<|fim_prefix|>"),
            _ => (BpeTextTokenizer.Load(Path.Combine(root, "data", "tokenizers", kind)), Corpora.Text(kind.Contains("shakespeare") ? "shakespeare-char" : "wikitext2").Test[..20_000] + " naïve café — 東京 🙂 \t\n  x"),
        };
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_tokenizer_json_reader_gives_SlmGen_s_ids_and_text(string kind)
    {
        var (tokenizer, text) = Load(kind);
        var json = TokenizerJson.Parse(HuggingFaceTokenizer.Document(tokenizer).ToJsonString());
        Assert.Equal(tokenizer.VocabSize, json.VocabSize);
        var ids = tokenizer.Encode(text);
        Assert.Equal(ids, json.Encode(text));

        // Hugging Face's word join writes a line break as " \n " where SlmGen writes "\n": equal with those spaces removed.
        static string Lines(string s) => Regex.Replace(s, " ?\n ?", "\n");
        Assert.Equal(Lines(tokenizer.Decode(ids)), Lines(json.Decode(ids)));

        // Streamed pieces, one id at a time after a prompt's last id, add up to the decoded continuation.
        var prompt = ids[..10];
        var stream = new TextStream(json, prompt[^1]);
        var streamed = string.Concat(ids[10..2000].Select(stream.Push)) + stream.Flush();
        var whole = json.Decode(ids[..2000]);
        Assert.Equal(whole, json.Decode(prompt) + streamed);
    }

    [Fact]
    public void A_character_split_across_byte_tokens_is_held_back_until_it_is_whole()
    {
        var json = TokenizerJson.Parse(HuggingFaceTokenizer.Json(new ByteTokenizer())!);
        var stream = new TextStream(json);
        var pieces = json.Encode("a🙂b").Select(stream.Push).ToList();
        Assert.Equal(new[] { "a", string.Empty, string.Empty, string.Empty, "🙂", "b" }, pieces);
    }

    [Fact]
    public void Unknown_input_and_unsupported_files_are_refused_with_their_reason()
    {
        var chars = TokenizerJson.Parse(HuggingFaceTokenizer.Json(Corpora.TinyShakespeare().Tokenizer)!);
        Assert.Contains("'€' is not in the vocabulary", Assert.Throws<ArgumentException>(() => chars.Encode("a€")).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => chars.Decode(new[] { 65 }));
        Assert.Contains("Unigram", Assert.Throws<NotSupportedException>(() => TokenizerJson.Parse("""{"model":{"type":"Unigram","vocab":{"a":0}}}""")).Message);
        Assert.Contains("post-processor", Assert.Throws<NotSupportedException>(() => TokenizerJson.Parse("""{"post_processor":{"type":"TemplateProcessing"},"model":{"type":"WordLevel","vocab":{"a":0}}}""")).Message);
        Assert.Throws<InvalidDataException>(() => TokenizerJson.Parse("{"));
        Assert.Throws<InvalidDataException>(() => TokenizerJson.Parse("""{"model":{"type":"WordLevel"}}"""));
    }

    [Fact]
    public void The_sampler_is_greedy_at_temperature_zero_seeded_and_follows_the_softmax()
    {
        var logits = new float[] { 0f, (float)Math.Log(3), -20f, 1e-3f };
        Assert.Equal(1, new TokenSampler(SamplingSettings.Greedy()).Next(logits));
        Assert.Equal(1, new TokenSampler(new SamplingSettings(Temperature: 1, TopK: 1, Seed: 5)).Next(logits));
        Assert.Equal(1, new TokenSampler(new SamplingSettings(Temperature: 1, TopP: 0.3, Seed: 5)).Next(logits));

        int[] Draws(int seed)
        {
            var sampler = new TokenSampler(new SamplingSettings(Temperature: 1, TopK: 2, Seed: seed));
            return Enumerable.Range(0, 4000).Select(_ => sampler.Next(logits)).ToArray();
        }

        var draws = Draws(7);
        Assert.Equal(draws, Draws(7));
        Assert.NotEqual(draws, Draws(8));
        Assert.All(draws, d => Assert.True(d is 1 or 3)); // top-k 2 keeps ids 1 and 3
        var share = draws.Count(d => d == 1) / 4000.0;
        Assert.InRange(share, 0.72, 0.78); // 3 / (3 + e^0.001) ≈ 0.7498
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingSettings(TopP: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenSampler(new SamplingSettings(Temperature: double.NaN)));
    }
}
