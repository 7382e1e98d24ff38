using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using SlmGen.Interop;
using SlmGen.Samples;
using SlmGen.Training;
using BabyGpt = SlmGen.Samples.BabyGpt;
using static TorchSharp.torch;

namespace SlmGen.Runtime.Tests;

/// <summary>
/// The PyTorch twin export on CPU: files, names, the weights' round trip, the Hugging Face forms. Whether the
/// twin computes what TorchSharp computes is checked with PyTorch on the GPU machine (scripts/gpu/twins.sh);
/// <see cref="Every_model_has_a_gpu_twin_record_that_agrees_with_its_constants"/> reads those records.
/// </summary>
[HoldTensors]
public class TwinTests
{
    private static string TempDir() => Directory.CreateTempSubdirectory("slmgen-twin-").FullName;

    [Fact]
    public void The_hugging_face_form_carries_the_tokenizer_and_names_no_made_up_special_ids()
    {
        var data = SlmGen.Data.Corpora.TinyShakespeare(SlmGen.Data.CharSplit.NanoGpt);
        using var model = new SlmGen.Samples.TinyShakespeare.ShakespeareGpt();
        var dir = TempDir();
        var result = model.ExportPyTorch(dir, tokenizer: data.Tokenizer);
        Assert.NotNull(result.HuggingFace);
        Assert.Null(result.TokenizerSkipped);
        using var tokenizer = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.HuggingFace!, "tokenizer.json")));
        var vocab = tokenizer.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().ToList();
        Assert.Equal(data.VocabSize, vocab.Count);
        Assert.All(vocab, v => Assert.Equal(data.Tokenizer.Encode(v.Name).Single(), v.Value.GetInt32()));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.HuggingFace!, "config.json")));
        Assert.Equal(JsonValueKind.Null, config.RootElement.GetProperty("eos_token_id").ValueKind); // characters have no end-of-text token: not 0
        using var generation = JsonDocument.Parse(File.ReadAllText(Path.Combine(result.HuggingFace!, "generation_config.json")));
        Assert.Equal(model.Context, generation.RootElement.GetProperty("max_length").GetInt32());

        // Without a tokenizer the export says why there are no tokenizer files.
        Assert.Contains("no tokenizer", model.ExportPyTorch(TempDir()).TokenizerSkipped);

        // Words: the end-of-line word is the end of text; a BPE folder: its files and <|endoftext|>.
        var words = SlmGen.Data.Corpora.PennTreebank().Tokenizer;
        var special = HuggingFaceTokenizer.Write(words, TempDir(), 35);
        Assert.Equal(words.Encode("a\nb")[1], special.Eos);
        var bpeFolder = Path.Combine(SlmGen.Data.DataFiles.Root(), "tokenizers", "bpe-wikitext2-1024");
        var bpe = SlmGen.Data.Tokenizers.BpeTextTokenizer.Load(bpeFolder);
        var bpeDir = TempDir();
        HuggingFaceTokenizer.Write(bpe, bpeDir, 128);
        Assert.Equal(File.ReadAllText(Path.Combine(bpeFolder, "merges.txt")), File.ReadAllText(Path.Combine(bpeDir, "merges.txt")));
        using var bpeJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(bpeDir, "tokenizer.json")));
        Assert.Equal(bpe.VocabSize, bpeJson.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().Count());
    }

    private static IEnumerable<ModelDescriptor> AllModels() =>
        new[] { typeof(BabyGpt).Assembly, typeof(SlmGen.Samples.TinyShakespeare.ShakespeareGpt).Assembly, typeof(SlmGen.Samples.Bench.BenchGpt).Assembly, typeof(SlmGen.Samples.Twins.MobileLlm125M).Assembly }
            .SelectMany(ModelCatalog.For);

    [Fact]
    public void An_export_holds_the_twin_its_config_and_the_weights_under_the_models_parameter_names()
    {
        foreach (var descriptor in AllModels().Where(d => d.Cost.Parameters < 2_000_000))
        {
            var dir = TempDir();
            using var model = descriptor.Create();
            var result = model.ExportPyTorch(dir, huggingFace: false);
            Assert.Equal(PyTorchTwin.Source, File.ReadAllText(Path.Combine(dir, "model.py")));
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
            using var architecture = JsonDocument.Parse(model.Architecture);
            Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(
                System.Text.Json.Nodes.JsonNode.Parse(architecture.RootElement.GetProperty("architecture").GetRawText()),
                System.Text.Json.Nodes.JsonNode.Parse(config.RootElement.GetProperty("architecture").GetRawText())), descriptor.FullName);
            Assert.Equal(model.Cost.Parameters, config.RootElement.GetProperty("costs").GetProperty("parameters").GetInt64());
            Assert.Equal(descriptor.Fingerprint, config.RootElement.GetProperty("fingerprint").GetString());

            var path = Path.Combine(dir, "model.safetensors");
            using var stream = File.OpenRead(path);
            var header = SafetensorsFile.ReadHeader(stream, path);
            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
            Assert.Equal(parameters.Keys.Order(), header.Entries.Select(e => e.Name).Order());
            Assert.All(header.Entries, e => Assert.Equal(parameters[e.Name], e.Shape));
            Assert.Equal(model.Fingerprint, header.Metadata[PyTorchTwin.FingerprintKey]);
            Assert.Equal("pt", header.Metadata["format"]);
        }
    }

    [Fact]
    public void Weights_exported_from_one_instance_load_into_another_with_the_same_logits()
    {
        var dir = TempDir();
        Devices.Seed(4);
        using var source = new LeverSharedLora();
        using (no_grad())
        {
            foreach (var p in source.parameters())
            {
                p.add_(randn_like(p) * 0.05); // LoRA's B starts at zero: make every weight count
            }
        }

        source.ExportPyTorch(dir);
        Devices.Seed(5);
        using var target = new LeverSharedLora();
        PyTorchTwin.ImportWeights(target, Path.Combine(dir, "model.safetensors"));
        source.eval();
        target.eval();
        using var idx = randint(0, 65, new long[] { 2, 128 }, dtype: ScalarType.Int64);
        Assert.True(source.call(idx).allclose(target.call(idx), 0, 0));
    }

    [Fact]
    public void Importing_weights_of_other_names_shapes_or_architecture_is_refused()
    {
        var dir = TempDir();
        using var model = new SingleAttention();
        var good = model.named_parameters().Select(p => (p.name, p.parameter.detach())).ToList();

        void Write(string file, List<(string, Tensor)> tensors, Dictionary<string, string>? metadata = null)
        {
            using var stream = File.Create(Path.Combine(dir, file));
            SafetensorsFile.Write(stream, tensors, metadata);
        }

        Write("renamed.safetensors", good.Select((t, i) => (i == 0 ? t.Item1 + "x" : t.Item1, t.Item2)).ToList());
        Write("missing.safetensors", good.Skip(1).ToList());
        Write("shape.safetensors", good.Select((t, i) => (t.Item1, i == 0 ? t.Item2.reshape(-1) : t.Item2)).ToList());
        Write("other.safetensors", good, new Dictionary<string, string> { [PyTorchTwin.FingerprintKey] = "0000000000000000" });
        foreach (var file in new[] { "renamed", "missing", "shape", "other" })
        {
            var ex = Assert.Throws<InvalidDataException>(() => PyTorchTwin.ImportWeights(model, Path.Combine(dir, file + ".safetensors")));
            Assert.Contains(file + ".safetensors", ex.Message);
        }

        // PyTorch's own files carry no SlmGen metadata: the names and shapes decide.
        Write("pytorch.safetensors", good, new Dictionary<string, string> { ["format"] = "pt" });
        PyTorchTwin.ImportWeights(model, Path.Combine(dir, "pytorch.safetensors"));
    }

    [Fact]
    public void Gpt2_and_llama_shaped_models_get_a_hugging_face_form_and_the_others_a_reason()
    {
        using (var baby = new BabyGpt())
        {
            Assert.Null(HuggingFaceExport.Unsupported(baby));
            var dir = TempDir();
            HuggingFaceExport.Export(baby, dir);
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
            Assert.Equal("gpt2", config.RootElement.GetProperty("model_type").GetString());
            Assert.Equal(6, config.RootElement.GetProperty("n_layer").GetInt32());
            Assert.True(config.RootElement.GetProperty("tie_word_embeddings").GetBoolean());
            var path = Path.Combine(dir, "model.safetensors");
            using var stream = File.OpenRead(path);
            var entries = SafetensorsFile.ReadHeader(stream, path).Entries.ToDictionary(e => e.Name);
            Assert.Equal(new long[] { 384, 3 * 384 }, entries["transformer.h.0.attn.c_attn.weight"].Shape); // Conv1D: [in, out]
            Assert.Equal(new long[] { 256, 384 }, entries["transformer.wpe.weight"].Shape);
            Assert.False(entries.ContainsKey("lm_head.weight")); // tied
        }

        using (var shared = new LeverBlockShared())
        {
            var dir = TempDir();
            HuggingFaceExport.Export(shared, dir);
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
            Assert.Equal("llama", config.RootElement.GetProperty("model_type").GetString());
            Assert.Equal(4, config.RootElement.GetProperty("num_hidden_layers").GetInt32()); // 2 blocks, each twice in a row: unrolled
        }

        using (var gqa = new LeverGqa())
        {
            var dir = TempDir();
            HuggingFaceExport.Export(gqa, dir);
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
            Assert.NotEqual(config.RootElement.GetProperty("num_attention_heads").GetInt32(), config.RootElement.GetProperty("num_key_value_heads").GetInt32());
        }

        var reasons = new (SlmModel Model, string Reason)[]
        {
            (new LeverSharedLora(), "LoRA"),
            (new LeverQat(), "QAT"),
            (new LeverLayerwise(), "differ in shape"),
            (new ThreeLayerTransformer(), "post-norm"),
            (new MlpPredictor(), "flatten or dense"),
        };
        foreach (var (model, reason) in reasons)
        {
            Assert.Contains(reason, HuggingFaceExport.Unsupported(model));
            var ex = Assert.Throws<NotSupportedException>(() => HuggingFaceExport.Export(model, TempDir()));
            Assert.Contains(model.GetName(), ex.Message);
            model.Dispose();
        }
    }

    [Fact]
    public void Every_model_has_a_gpu_twin_record_that_agrees_with_its_constants()
    {
        var file = Directory.GetFiles(Path.Combine(Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!, "results", "twins"), "*.jsonl").Single();
        var records = File.ReadLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var byModel = records.Where(r => r.TryGetProperty("params", out _)).ToDictionary(r => r.GetProperty("model").GetString()!);
        var models = AllModels().ToList();
        Assert.True(models.Count(m => m.Name.StartsWith("Twin9", StringComparison.Ordinal)) >= 50, "at least 50 random specs");

        // Models added while no GPU machine was lent wait in results/twins/pending.md, by name; a name there must be a
        // model without a record (the list shrinks as records arrive), and every other model needs its record.
        var pending = PendingTwins.Names();
        foreach (var name in pending)
        {
            Assert.True(models.Any(m => m.FullName == name), $"{name} is listed as pending in results/twins/pending.md but is no model");
            Assert.False(byModel.ContainsKey(name), $"{name} has a twin record now: remove it from results/twins/pending.md");
        }

        foreach (var d in models.Where(m => !pending.Contains(m.FullName)))
        {
            Assert.True(byModel.TryGetValue(d.FullName, out var r), $"{d.FullName}: no twin record in {file} (re-run scripts/gpu/twins.sh)");
            Assert.True(r.GetProperty("ok").GetBoolean(), $"{d.FullName}: the twin disagreed");
            Assert.InRange(r.GetProperty("logits_rel_err").GetDouble(), 0, 1e-5);
            Assert.Equal(d.Cost.Parameters, r.GetProperty("params")[1].GetInt64());
            Assert.Equal(d.Cost.Parameters, r.GetProperty("params")[0].GetInt64());
            Assert.Equal(d.Cost.ForwardFlopsPerToken, r.GetProperty("fwd")[0].GetInt64());
            Assert.Equal(d.Cost.TrainingFlopsPerToken, r.GetProperty("fused_train").GetInt64());
            Assert.Equal(d.Cost.WeightBytesDeclared, r.GetProperty("weight_bytes")[0].GetInt64());
            using var model = d.Create();
            Assert.Equal(HuggingFaceExport.Unsupported(model) is null, r.TryGetProperty("hf", out _));
        }

        var checkpoint = records.Single(r => r.TryGetProperty("kind", out var k) && k.GetString() == "checkpoint");
        Assert.True(checkpoint.GetProperty("ok").GetBoolean(), "Python's safetensors opened SlmGen's checkpoint and its weights gave SlmGen's logits");
    }

    [Fact]
    public void The_torchrun_round_trip_gives_the_same_validation_nll_in_slmgen_as_in_pytorch()
    {
        var file = Path.Combine(Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!, "results", "torchrun", "h200-x2.jsonl");
        var runs = File.ReadLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(new[] { 1, 2 }, runs.Select(r => r.GetProperty("processes").GetInt32()).Order());
        foreach (var r in runs)
        {
            var pytorch = r.GetProperty("pytorch").GetProperty("validation_nll").GetDouble();
            var slmgen = r.GetProperty("slmgen").GetProperty("nll").GetDouble();
            Assert.InRange(Math.Abs(pytorch - slmgen), 0, 1e-4);
            Assert.Equal(r.GetProperty("pytorch").GetProperty("validation_tokens").GetInt64(), r.GetProperty("slmgen").GetProperty("tokens").GetInt64());
            Assert.Equal(new SlmGen.Samples.BabyGpt().GetName(), r.GetProperty("pytorch").GetProperty("twin").GetString()!.Split('.').Last());
        }
    }
}
