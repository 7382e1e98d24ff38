using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;
using SlmGen.Data.Tokenizers;
using SlmGen.Generator.Tests.Infrastructure;
using SlmGen.Interop;
using SlmGen.Runtime.Tests;
using static TorchSharp.torch;

namespace SlmGen.Generator.Tests;

/// <summary>
/// The GGUF export on random Llama- and GPT-2-shaped YAML designs (grouped-query attention, head sizes, biases, packed
/// or separate q/k/v, shared blocks, tied and untied heads, padded vocabularies, rotary bases, characters and bytes):
/// each one loads in llama.cpp (LLamaSharp) and gives SlmGen's logits at F32.
/// </summary>
[HoldTensors]
public class GgufDesignTests
{
    private static string Design(Random r, int i, out string family)
    {
        family = r.Next(2) == 0 ? "llama" : "gpt2";
        var vocab = new[] { 65, 97, 256, 300, 1000 }[r.Next(5)];
        var heads = new[] { 1, 2, 4, 8 }[r.Next(4)];
        var headDim = new[] { 8, 16, 32 }[r.Next(3)];
        var yes = () => r.Next(2) == 0 ? "true" : "false";
        var sharing = r.Next(3) switch { 0 => string.Empty, 1 => ", repeat: 2", _ => ", block_repeat: 2" };
        var ffn = r.Next(2) == 0 ? $"{r.Next(1, 5)}x" : $"{8 * r.Next(3, 20)}";
        var spec = new StringBuilder($"name: Gguf{i}\nvocab: {vocab}\ncontext: {r.Next(8, 48)}\n");
        if (r.Next(4) == 0)
        {
            spec.Append("pad_vocab_to: 64\n");
        }

        if (family == "llama")
        {
            var kv = Enumerable.Range(1, heads).Where(k => heads % k == 0).ToArray();
            spec.Append($"embedding: {8 * r.Next(2, 17)}\npositions: {{ kind: rope, base: {new[] { 10000, 500, 1000000 }[r.Next(3)]} }}\n");
            spec.Append($"layers:\n  - transformer: {{ layers: {r.Next(1, 4)}, heads: {heads}, kv_heads: {kv[r.Next(kv.Length)]}, head_dim: {headDim}, ffn: {ffn}, activation: swiglu, norm: rmsnorm, attention_bias: {yes()}, ffn_bias: {yes()}, packed_qkv: {yes()}{sharing} }}\n");
            spec.Append("final_norm: rmsnorm\n");
        }
        else
        {
            spec.Append($"embedding: {heads * headDim}\npositions: learned\n");
            spec.Append($"layers:\n  - transformer: {{ layers: {r.Next(1, 4)}, heads: {heads}, ffn: {ffn}, activation: gelu, norm: layernorm, norm_bias: {yes()}, attention_bias: {yes()}, ffn_bias: {yes()}, packed_qkv: {yes()}{sharing} }}\n");
            spec.Append("final_norm: layernorm\n");
        }

        spec.Append(r.Next(2) == 0 ? "head: tied\n" : "head: untied\n");
        return spec.ToString();
    }

    [Fact]
    public void Random_llama_and_gpt2_shaped_designs_give_SlmGens_logits_in_llama_cpp()
    {
        var random = new Random(2026);
        var specs = new List<(string, string)>();
        for (var i = 0; i < 100; i++)
        {
            specs.Add(($"/specs/gguf{i}.yaml", Design(random, i, out _)));
        }

        var run = GeneratorRun.Of(new[] { ("/0/Empty.cs", "namespace Empty;") }, specs);
        var errors = run.GeneratorDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(5)));
        using var image = new MemoryStream();
        Assert.True(run.Output.Emit(image).Success);
        var models = ModelCatalog.For(System.Reflection.Assembly.Load(image.ToArray()));
        Assert.Equal(100, models.Count);
        var dir = Directory.CreateTempSubdirectory("slmgen-gguf-designs-").FullName;
        foreach (var descriptor in models)
        {
            manual_seed(9);
            using var model = descriptor.Create();
            model.eval();
            SlmGen.Data.ITokenizer tokenizer = model.DeclaredVocab == 256 ? new ByteTokenizer() : LlamaCpp.Characters(model.DeclaredVocab);
            Assert.Null(GgufExport.Unsupported(model, tokenizer));
            var path = Path.Combine(dir, descriptor.Name + ".gguf");
            var report = GgufExport.Write(model, tokenizer, path, GgmlType.F32);
            using var llama = new LlamaCpp(path, model.Context);
            Assert.Equal(model.Vocab, llama.Vocabulary);
            var ids = Enumerable.Range(0, model.Context).Select(i => (i * 7919 + 3) % model.DeclaredVocab).ToArray();
            using var input = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length });
            using var expected = model.Logits(input, lastPositionOnly: false);
            var want = expected.data<float>().ToArray();
            var got = llama.Logits(ids).SelectMany(row => row).ToArray();
            var scale = want.Max(Math.Abs);
            var worst = want.Zip(got, (a, b) => Math.Abs(a - b)).Max();
            var tolerance = report.Architecture == "llama" ? 1e-5 : 2e-3;
            Assert.True(worst <= tolerance * Math.Max(1, scale), $"{descriptor.Name} ({report.Architecture}): max |llama.cpp − SlmGen| = {worst} (largest logit {scale})\n{run.ModelAndCosts(descriptor.FullName)}");
        }

        Directory.Delete(dir, recursive: true);
    }
}
