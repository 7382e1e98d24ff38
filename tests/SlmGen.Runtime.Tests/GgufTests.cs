using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using SlmGen.Data;
using SlmGen.Interop;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// The GGUF export run by llama.cpp (LLamaSharp's CPU backend): every GPT-2- and Llama-shaped sample model gives
/// SlmGen's logits at F32, and llama.cpp's greedy tokens equal SlmGen's; the others are refused with the reason.
/// </summary>
[HoldTensors]
public class GgufTests
{
    public static TheoryData<string> SampleModels()
    {
        var data = new TheoryData<string>();
        foreach (var m in ModelCatalog.For(typeof(SlmGen.Samples.BabyGpt).Assembly).Where(m => m.Cost.Parameters < 40_000_000))
        {
            data.Add(m.FullName);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SampleModels))]
    public void Llama_cpp_gives_SlmGens_logits_at_f32_or_the_export_says_why_not(string fullName)
    {
        manual_seed(3);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, fullName).Create();
        model.eval();
        var tokenizer = LlamaCpp.Characters(model.DeclaredVocab);
        var path = Path.Combine(TestRuns.TempDir("slmgen-gguf-"), "model.gguf");
        if (GgufExport.Unsupported(model, tokenizer) is { } reason)
        {
            Assert.Contains(model.GetName(), reason);
            Assert.Throws<NotSupportedException>(() => GgufExport.Write(model, tokenizer, path, GgmlType.F32));
            return;
        }

        var report = GgufExport.Write(model, tokenizer, path, GgmlType.F32);
        Assert.Equal(new FileInfo(path).Length, report.Bytes);
        var length = Math.Min(model.Context, 20);
        using var llama = new LlamaCpp(path, length);
        Assert.Equal(model.Vocab, llama.Vocabulary);
        var ids = Enumerable.Range(0, length).Select(i => (i * 7919 + 3) % model.DeclaredVocab).ToArray();
        using var input = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, length });
        using var expected = model.Logits(input, lastPositionOnly: false);
        var want = expected.data<float>().ToArray();
        var got = llama.Logits(ids).SelectMany(r => r).ToArray();
        Assert.Equal(want.Length, got.Length);
        var scale = want.Max(Math.Abs);
        var worst = want.Zip(got, (a, b) => Math.Abs(a - b)).Max();
        // Llama: fp32 throughout (measured ≤ 4e-7 of the largest logit). GPT-2: llama.cpp's GELU is the tanh form through
        // an fp16 table (measured ≤ 4e-4).
        var tolerance = report.Architecture == "llama" ? 1e-5 : 2e-3;
        Assert.True(worst <= tolerance * Math.Max(1, scale), $"{model.GetName()} ({report.Architecture}): max |llama.cpp − SlmGen| = {worst} (largest logit {scale})");
    }

    [Theory]
    [InlineData("SlmGen.Samples.LeverGqa")]
    [InlineData("SlmGen.Samples.LeverBlockShared")]
    [InlineData("SlmGen.Samples.BabyGpt")]
    [InlineData("SlmGen.Samples.Gpt2Padded")]
    public void Greedy_tokens_through_llama_cpps_cache_are_SlmGens(string fullName)
    {
        manual_seed(5);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, fullName).Create();
        model.eval();
        var path = Path.Combine(TestRuns.TempDir("slmgen-gguf-"), "model.gguf");
        GgufExport.Write(model, LlamaCpp.Characters(model.DeclaredVocab), path, GgmlType.F32);
        var prompt = new[] { 1, 5, 9, 2 };
        var count = Math.Min(40, model.Context - prompt.Length);
        var expected = SlmGen.Generation.TextGenerator.Generate(model, prompt, count, SlmGen.Generation.SamplingOptions.Greedy, CPU);
        using var llama = new LlamaCpp(path, model.Context);
        var actual = llama.Greedy(prompt, count);
        for (var i = 0; i < count; i++)
        {
            if (expected[i] == actual[i])
            {
                continue;
            }

            // Only a near-tie may differ (GPT-2's GELU differs by ~1e-4 in llama.cpp): then the rest follows another path.
            var context = prompt.Concat(expected.Take(i)).Select(t => (long)t).ToArray();
            using var ids = tensor(context, new long[] { 1, context.Length });
            using var logits = model.Logits(ids, lastPositionOnly: false);
            var last = logits[0, -1].data<float>().ToArray();
            var margin = last[expected[i]] - last[actual[i]];
            Assert.True(margin < 1e-2, $"{model.GetName()}: token {i}: SlmGen {expected[i]}, llama.cpp {actual[i]}, margin {margin}");
            break;
        }
    }

    [Fact]
    public void The_embedded_tokenizer_is_SlmGens_in_llama_cpp_for_a_bpe_gpt2_and_characters()
    {
        var root = Path.GetDirectoryName(DataFiles.Root())!;
        var text = Corpora.Text("shakespeare-char").Test[..3000];
        foreach (var (name, tokenizer) in new (string, ITokenizer)[]
                 {
                     ("SlmGen.Samples.BpeShakespeare1024", SlmGen.Data.Tokenizers.BpeTextTokenizer.Load(Path.Combine(root, "data", "tokenizers", "bpe-shakespeare-1024"))),
                     ("SlmGen.Samples.BabyGpt", Corpora.TinyShakespeare().Tokenizer),
                     ("SlmGen.Samples.Gpt2Padded", SlmGen.Data.Tokenizers.TiktokenTextTokenizer.Gpt2()),
                 })
        {
            using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, name).Create();
            var path = Path.Combine(TestRuns.TempDir("slmgen-gguf-"), "model.gguf");
            GgufExport.Write(model, tokenizer, path, GgmlType.Q8_0);
            using var llama = new LlamaCpp(path, 16);
            var ids = tokenizer.Encode(text);
            Assert.Equal(ids, llama.Tokenize(text));
            Assert.Equal(tokenizer.Decode(ids), llama.Text(ids));
        }
    }

    [Fact]
    public void Block_types_round_trip_as_ggml_reads_them_and_the_refusals_say_why()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 32 * 64).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        values[5] = 0;
        // Half a step, plus the fp16 scale's rounding; Q4_0's top code is 15, so the value opposite the block's extreme loses up to a step.
        foreach (var (type, bound) in new[] { (GgmlType.F32, 0.0), (GgmlType.F16, 1e-3), (GgmlType.Q8_0, 2.0 / 127 * 0.57), (GgmlType.Q4_0, 2.0 / 8 * 1.01) })
        {
            var bytes = GgufWriter.Encode(values, type);
            Assert.Equal(GgufWriter.Bytes(new long[] { 32, 64 }, type), bytes.Length);
            var back = GgufWriter.Decode(bytes, type, values.Length);
            var worst = values.Zip(back, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(worst <= bound, $"{type}: {worst} > {bound}");
        }

        using var words = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.BabyGpt").Create();
        Assert.Contains("no tokenizer of the WordTokenizer kind", GgufExport.Unsupported(words, new WordTokenizer(string.Join(" ", Enumerable.Range(0, 65).Select(i => $"w{i}")), endOfLine: false)));
        Assert.Contains("the tokenizer has 256 tokens, the model 65", GgufExport.Unsupported(words, new SlmGen.Data.Tokenizers.ByteTokenizer()));
        Assert.Contains("embeds the tokenizer", GgufExport.Unsupported(words, null));
    }

    /// <summary>
    /// The quantised GGUF types on a trained model (LeverGqa, 200 steps of 8 windows on Tiny Shakespeare): llama.cpp reads SlmGen's
    /// greedy text teacher-forced, and its next-token choices and logits are compared with SlmGen's fp32 ones.
    /// The measured figures go to the test output (docs/interop.md states them); the assertions are their order and
    /// generous floors.
    /// </summary>
    [Fact]
    public void Quantised_gguf_types_stay_close_to_the_trained_models_choices()
    {
        manual_seed(21);
        using var model = ModelCatalog.Find(typeof(SlmGen.Samples.BabyGpt).Assembly, "SlmGen.Samples.LeverGqa").Create();
        using (var trainer = new SlmGen.Training.Trainer(model, TestRuns.Shakespeare.Value, TestRuns.Quick(null, 200) with { BatchSize = 8, EvalEvery = 200, LogEvery = 200 }, CPU))
        {
            trainer.Train();
        }

        model.eval();
        var text = SlmGen.Generation.TextGenerator.Generate(model, TestRuns.Shakespeare.Value.Tokenizer.Encode("ROMEO:\n"), 120, SlmGen.Generation.SamplingOptions.Greedy, CPU);
        var ids = TestRuns.Shakespeare.Value.Tokenizer.Encode("ROMEO:\n").Concat(text).Take(model.Context).ToArray();
        using var input = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length });
        using var expected = model.Logits(input, lastPositionOnly: false);
        var want = expected[0].data<float>().ToArray();
        var scale = want.Max(Math.Abs);
        int Argmax(float[] row) => Array.IndexOf(row, row.Max());
        var wantChoice = Enumerable.Range(0, ids.Length).Select(t => Argmax(want.Skip(t * model.Vocab).Take(model.Vocab).ToArray())).ToArray();
        var dir = TestRuns.TempDir("slmgen-gguf-q-");
        var figures = new List<(GgmlType Type, double Agreement, double Error, long Bytes)>();
        foreach (var type in new[] { GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0 })
        {
            var path = Path.Combine(dir, $"{type}.gguf");
            var report = GgufExport.Write(model, TestRuns.Shakespeare.Value.Tokenizer, path, type);
            using var llama = new LlamaCpp(path, model.Context);
            var rows = llama.Logits(ids);
            var agreement = Enumerable.Range(0, ids.Length).Count(t => Argmax(rows[t]) == wantChoice[t]) / (double)ids.Length;
            var error = rows.SelectMany(r => r).Zip(want, (a, b) => Math.Abs(a - b)).Max() / scale;
            figures.Add((type, agreement, error, report.Bytes));
            Console.WriteLine($"GGUF {type}: {report.Bytes:N0} bytes, next-token agreement with SlmGen fp32 {agreement:P1}, max |Δlogit| {error:0.0e0} of the largest logit ({scale:0.0})");
        }

        Assert.Equal(1.0, figures[0].Agreement);
        Assert.True(figures[0].Error < 1e-5 && figures[0].Error < figures[1].Error && figures[1].Error < figures[2].Error && figures[2].Error < figures[3].Error, string.Join("; ", figures));
        Assert.True(figures[1].Agreement >= 0.95 && figures[2].Agreement >= 0.9 && figures[3].Agreement >= 0.6, string.Join("; ", figures));
        Assert.True(figures[3].Bytes < figures[2].Bytes && figures[2].Bytes < figures[1].Bytes && figures[1].Bytes < figures[0].Bytes);
    }

    [Fact]
    public void A_file_llama_cpp_cannot_load_fails_the_test_with_its_exit_status_and_log_not_the_test_host()
    {
        var path = Path.Combine(TestRuns.TempDir("slmgen-gguf-"), "damaged.gguf");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("GGUF, but no more of it"));
        var e = Assert.Throws<InvalidOperationException>(() => new LlamaCpp(path, 16).Dispose());
        Assert.Contains("damaged.gguf", e.Message);
        Assert.Contains("exit status", e.Message);
    }
}
