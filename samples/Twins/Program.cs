using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using SlmGen;
using SlmGen.Data;
using SlmGen.Interop;
using SlmGen.Samples;
using SlmGen.Training;
using TorchSharp;
using static TorchSharp.torch;

// Commands:
//   export --out DIR       every model: the PyTorch twin (model.py, config.json, model.safetensors, hf/ where it
//                          has a Hugging Face form) and probe.safetensors (token ids and TorchSharp's fp32 logits)
//   checkpoint --out DIR   a 3-step training run's checkpoint and its model's logits, for Python's safetensors
//   data --out DIR         the token splits of a corpus as tokens.safetensors (for scripts/torchrun)
//   eval --model NAME --weights FILE --out FILE   import PyTorch-trained weights and evaluate them in SlmGen
//   generate --model NAME [--weights FILE] --tokens N --out FILE   greedy decoding speed with and without the KV cache
//   tokenize --out DIR     held-out texts encoded by every BPE in data/tokenizers (Microsoft.ML.Tokenizers), for Hugging Face's check
//   recipe --out DIR [--model NAME]  three Muon + AdamW-group + warmdown steps with z-loss on fixed batches, for scripts/gpu/recipe_step.py
//   hf-tokenizers --out DIR  the Hugging Face tokenizer files an export writes (chars, bytes, words, every BPE) with held-out texts and SlmGen's ids
var cli = new CommandLine(args);
var outPath = cli.String("out", "twins", "where files go");
var deviceName = cli.String("device", "auto", "auto, cpu or cuda");
var only = cli.Optional("models", "comma list of model names (default: every model)");
var corpus = cli.String("data", "shakespeare-char", "shakespeare-char (nanoGPT's split), shakespeare-study, ptb or wikitext2");
var modelName = cli.Optional("model", "eval: the model's name");
var weights = cli.Optional("weights", "eval: a safetensors state_dict (from PyTorch)");
var seed = cli.Long("seed", 1234, "seed of the weights and the probe batch");
var count = cli.Int("tokens", 255, "generate: tokens to decode after a one-token prompt");
var repeats = cli.Int("repeats", 3, "generate: timed repeats per mode (the fastest is reported)");
if (cli.WantsHelp || cli.Positional.Count == 0)
{
    Console.WriteLine("Twins: SlmGen's side of the PyTorch twin check.\n  export | checkpoint | data | eval\n" + cli.Usage);
    return 0;
}

cli.EnsureAllKnown();
var device = Devices.Resolve(deviceName);
var catalogs = new[] { typeof(SlmGen.Samples.BabyGpt).Assembly, typeof(SlmGen.Samples.TinyShakespeare.ShakespeareGpt).Assembly, typeof(SlmGen.Samples.Bench.BenchGpt).Assembly, typeof(Twins).Assembly }
    .SelectMany(ModelCatalog.For).ToList();

switch (cli.Positional[0])
{
    case "export":
        Twins.ExportAll(catalogs.Where(d => only is null || only.Split(',').Any(n => n == d.Name || n == d.FullName)).ToList(), outPath, device, seed);
        return 0;

    case "checkpoint":
        Twins.Checkpoint(outPath, device);
        return 0;

    case "data":
        Twins.ExportData(Twins.Corpus(corpus), outPath);
        return 0;

    case "eval":
        var descriptor = catalogs.FirstOrDefault(d => d.FullName == modelName) ?? catalogs.FirstOrDefault(d => d.Name == modelName) ?? throw new ArgumentException($"--model: no model named '{modelName}'.");
        Twins.Evaluate(descriptor, weights ?? throw new ArgumentException("eval needs --weights."), Twins.Corpus(corpus), device, outPath);
        return 0;

    case "generate":
        var generated = catalogs.FirstOrDefault(d => d.FullName == modelName) ?? catalogs.FirstOrDefault(d => d.Name == modelName) ?? throw new ArgumentException($"--model: no model named '{modelName}'.");
        Twins.GenerateSpeed(generated, weights, count, repeats, device, seed, outPath);
        return 0;

    case "tokenize":
        Twins.Tokenize(outPath);
        return 0;

    case "hf-tokenizers":
        Twins.HuggingFaceTokenizers(outPath);
        return 0;

    case "recipe":
        Twins.Recipe(catalogs.Single(d => d.Name == (modelName ?? "CompactVariants")), outPath, device, seed);
        return 0;

    default:
        throw new ArgumentException($"Unknown command '{cli.Positional[0]}': export, checkpoint, data, eval, generate, tokenize, recipe or hf-tokenizers.");
}

/// <summary>The commands.</summary>
internal static class Twins
{
    /// <summary>Models whose probe logits have more elements keep only the first and last positions.</summary>
    private const long FullLogitsLimit = 4_000_000;

    public static TokenDataset Corpus(string name) => Corpora.Named(name);

    public static void ExportAll(IReadOnlyList<ModelDescriptor> models, string root, Device device, long seed)
    {
        var index = new List<Dictionary<string, object?>>();
        foreach (var descriptor in models)
        {
            var dir = Path.Combine(root, descriptor.FullName);
            Devices.Seed(seed);
            using var model = descriptor.Create();
            WakeZeroParameters(model, seed);
            model.to(device).eval();
            var result = model.ExportPyTorch(dir);
            WriteProbe(model, Path.Combine(dir, "probe.safetensors"), device, seed);
            index.Add(new Dictionary<string, object?>
            {
                ["model"] = descriptor.FullName,
                ["dir"] = descriptor.FullName,
                ["huggingFace"] = result.HuggingFace is null ? null : "hf",
                ["huggingFaceSkipped"] = result.HuggingFaceSkipped,
            });
            Console.WriteLine($"{descriptor.FullName,-60} {model.Cost.Parameters,14:N0} parameters  {(result.HuggingFace is null ? "no HF form: " + result.HuggingFaceSkipped : "HF: " + JsonDocument.Parse(File.ReadAllText(Path.Combine(result.HuggingFace, "config.json"))).RootElement.GetProperty("model_type"))}");
        }

        File.WriteAllText(Path.Combine(root, "index.json"), JsonSerializer.Serialize(new { device = Devices.Describe(device), models = index }, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// Parameters that start at zero so that their layer starts as no change (LoRA's B, the hashed bigrams' projection,
    /// zeroed biases) get small random values, so that the twin check exercises the paths behind them.
    /// </summary>
    public static void WakeZeroParameters(SlmModel model, long seed)
    {
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator((ulong)seed + 17);
        foreach (var p in model.parameters())
        {
            if (p.count_nonzero().item<long>() == 0)
            {
                p.normal_(0, 0.02, generator);
            }
        }
    }

    /// <summary>Token ids (2 windows) and the model's fp32 logits for them, (B, T, V) or (B, V); positions cut to the first and last 8 for large outputs (<c>positions</c> says which).</summary>
    public static void WriteProbe(SlmModel model, string path, Device device, long seed)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        var idx = randint(0, model.Vocab, new long[] { 2, model.Context }, dtype: ScalarType.Int64, generator: generator);
        var logits = model.call(idx.to(device)).to(ScalarType.Float32).cpu();
        var positions = HeldScalars.Arange(logits.dim() == 3 ? logits.shape[1] : 1, dtype: ScalarType.Int64);
        if (logits.numel() > FullLogitsLimit && logits.dim() == 3)
        {
            var t = logits.shape[1];
            positions = cat(new[] { HeldScalars.Arange(0, 8, 1, dtype: ScalarType.Int64), HeldScalars.Arange(t - 8, t, 1, dtype: ScalarType.Int64) }, 0);
            logits = logits.index_select(1, positions);
        }

        var tensors = new List<(string, Tensor)> { ("idx", idx), ("logits", logits.contiguous()), ("positions", positions) };
        using var stream = File.Create(path);
        SafetensorsFile.Write(stream, tensors, new Dictionary<string, string> { ["device"] = Devices.Describe(device), ["format"] = "pt" });
    }

    public static void Checkpoint(string root, Device device)
    {
        Directory.CreateDirectory(root);
        var data = Corpora.TinyShakespeare(CharSplit.Study);
        Devices.Seed(3);
        using var model = new SlmGen.Samples.CharAttention();
        var options = new TrainingOptions { BatchSize = 4, Steps = 3, EvalEvery = 3, Validation = EvalProtocol.RandomBatches(1), Progress = false, TensorBoard = false, RunDirectory = root, Bf16 = false };
        using (var trainer = new Trainer(model, data, options, device))
        {
            trainer.Train();
        }

        using var loaded = new SlmGen.Samples.CharAttention();
        SlmGen.Training.Checkpoint.LoadWeights(loaded, Path.Combine(root, "last.ckpt"));
        loaded.to(device).eval();
        PyTorchTwin.Export(loaded, Path.Combine(root, "twin"), huggingFace: false);
        WriteProbe(loaded, Path.Combine(root, "twin", "probe.safetensors"), device, 5);
        Console.WriteLine($"checkpoint: {Path.Combine(root, "last.ckpt")} ({new FileInfo(Path.Combine(root, "last.ckpt")).Length:N0} bytes)");
    }

    public static void ExportData(TokenDataset data, string root)
    {
        Directory.CreateDirectory(root);
        var tensors = new List<(string, Tensor)>
        {
            ("train", tensor(data.Train.Select(t => (long)t).ToArray())),
            ("validation", tensor(data.Validation.Select(t => (long)t).ToArray())),
            ("test", tensor(data.Test.Select(t => (long)t).ToArray())),
        };
        using var stream = File.Create(Path.Combine(root, "tokens.safetensors"));
        SafetensorsFile.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt", ["name"] = data.Name, ["vocab"] = data.VocabSize.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Console.WriteLine($"data: {data.Name}, vocabulary {data.VocabSize}, {data.Train.Length:N0} / {data.Validation.Length:N0} / {data.Test.Length:N0} tokens");
    }

    /// <summary>Imports weights trained elsewhere and evaluates them on the whole validation split (non-overlapping windows, every position scored), fp32.</summary>
    public static void Evaluate(ModelDescriptor descriptor, string weights, TokenDataset data, Device device, string outFile)
    {
        using var model = descriptor.Create();
        PyTorchTwin.ImportWeights(model, weights);
        model.to(device);
        var result = Evaluator.Evaluate(model, data.Validation, EvalProtocol.Sequential(), Objective.EveryPosition, 32, device);
        var record = JsonSerializer.Serialize(new { model = descriptor.FullName, weights = Path.GetFileName(weights), data = data.Name, split = "validation", nll = result.Nll, tokens = result.Tokens, device = Devices.Describe(device) });
        Console.WriteLine(record);
        File.WriteAllText(outFile, record + "\n");
    }

    /// <summary>Greedy decoding of <paramref name="count"/> tokens after token 0, timed with the cache off and on (fp32; the fastest of the repeats).</summary>
    public static void GenerateSpeed(ModelDescriptor descriptor, string? weights, int count, int repeats, Device device, long seed, string outFile)
    {
        Devices.Seed(seed);
        using var model = descriptor.Create();
        if (weights is not null)
        {
            PyTorchTwin.ImportWeights(model, weights);
        }

        model.to(device).eval();
        var records = new List<object>();
        int[]? reference = null;
        foreach (var mode in new[] { SlmGen.Generation.KvCacheMode.Off, SlmGen.Generation.KvCacheMode.Exact })
        {
            var options = SlmGen.Generation.SamplingOptions.Greedy with { Cache = mode };
            SlmGen.Generation.TextGenerator.Generate(model, new[] { 0 }, Math.Min(count, 8), options, device); // warm-up
            var best = double.MaxValue;
            int[] tokens = Array.Empty<int>();
            for (var r = 0; r < repeats; r++)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                tokens = SlmGen.Generation.TextGenerator.Generate(model, new[] { 0 }, count, options, device);
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }

            reference ??= tokens;
            records.Add(new { model = descriptor.FullName, cache = mode.ToString(), tokens = count, seconds = best, tokens_per_second = count / best, same_tokens_as_off = tokens.SequenceEqual(reference), device = Devices.Describe(device), generated = tokens });
            Console.WriteLine($"{mode,-6} {count} tokens in {best:0.000} s: {count / best:N1} tokens/s{(tokens.SequenceEqual(reference) ? string.Empty : " (tokens differ from the full recomputation)")}");
        }

        File.WriteAllText(outFile, string.Join("\n", records.Select(r => JsonSerializer.Serialize(r))) + "\n");
    }

    /// <summary>
    /// For every BPE folder under data/tokenizers: the test splits of the three corpora and a text of other scripts,
    /// encoded by Microsoft.ML.Tokenizers (texts.json, ids.safetensors), for scripts/gpu/hf_tokenizers.py.
    /// </summary>
    public static void Tokenize(string root)
    {
        var data = Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!;
        var texts = new Dictionary<string, string>
        {
            ["shakespeare-char/test"] = Corpora.Text("shakespeare-char").Test,
            ["ptb/test"] = Corpora.Text("ptb").Test,
            ["wikitext2/test"] = Corpora.Text("wikitext2").Test,
            ["unicode"] = "naïve café — 東京タワー 🙂🙃 Ünïcödé\t tabs  and   spaces\n\n  Здравствуй, мир! ¿Qué tal? 1234567890 it's we'll they've",
        };
        foreach (var folder in Directory.GetDirectories(Path.Combine(data, "data", "tokenizers"), "bpe-*"))
        {
            var tokenizer = SlmGen.Data.Tokenizers.BpeTextTokenizer.Load(folder);
            var dir = Path.Combine(root, Path.GetFileName(folder));
            Directory.CreateDirectory(dir);
            foreach (var file in new[] { "vocab.json", "merges.txt" })
            {
                File.Copy(Path.Combine(folder, file), Path.Combine(dir, file), overwrite: true);
            }

            var tensors = texts.Select(kv => (kv.Key, tensor(tokenizer.Encode(kv.Value).Select(i => (long)i).ToArray()))).ToList();
            using (var stream = File.Create(Path.Combine(dir, "ids.safetensors")))
            {
                SafetensorsFile.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" });
            }

            File.WriteAllText(Path.Combine(dir, "texts.json"), JsonSerializer.Serialize(texts));
            Console.WriteLine($"{Path.GetFileName(folder)}: {string.Join(", ", tensors.Select(t => $"{t.Item1} {t.Item2.numel():N0} ids"))}");
        }
    }

    /// <summary>
    /// The tokenizer files an export writes into hf/ (SlmGen.Interop.HuggingFaceTokenizer) for characters, bytes, words
    /// and every BPE under data/tokenizers, each with held-out texts and the ids SlmGen gives them (texts.json,
    /// ids.safetensors), for scripts/gpu/hf_tokenizer_files.py: AutoTokenizer must give the same ids and decode them back.
    /// </summary>
    /// <summary>
    /// The optimizer side of the PyTorch check (scripts/gpu/recipe_step.py): the model's twin export (initial weights),
    /// three fixed batches, and the weights after three steps of SlmGen's optimizer — Muon on the hidden matrices,
    /// AdamW at its own rate per group (embeddings, head, gains), gradient clipping, z-loss, the warmdown schedule's
    /// rates — with every setting in recipe.json. fp32, no dropout.
    /// </summary>
    public static void Recipe(ModelDescriptor descriptor, string root, Device device, long seed)
    {
        Directory.CreateDirectory(root);
        Devices.Seed(seed);
        using var model = descriptor.Create();
        model.to(device).eval();
        model.ExportPyTorch(Path.Combine(root, "model"), huggingFace: false);
        var options = new TrainingOptions
        {
            Steps = 3,
            WarmupSteps = 2,
            Schedule = Schedule.Warmdown,
            WarmdownFraction = 0.67, // two decay steps: rates ½·peak (warm-up), the peak, then halfway down

            LearningRate = 2e-3,
            MinLearningRate = 1e-4,
            OptimizerKind = OptimizerKind.Muon,
            Muon = new MuonSettings(LearningRate: 0.03, Momentum: 0.9, Nesterov: true, NewtonSchulzSteps: 5, WeightDecay: 0.01),
            EmbeddingLearningRate = 5e-3,
            HeadLearningRate = 1e-3,
            GainLearningRate = 4e-3,
            Optimizer = new AdamWSettings(Beta1: 0.9, Beta2: 0.95, Epsilon: 1e-8, WeightDecay: 0.1, GradientClip: 0.5),
            ZLoss = 1e-3,
        };
        var groups = OptimizerGroups.For(model, options);
        using var flat = new FlatAdamW(model, options.Optimizer, ScalarType.Float32, groups, options.Muon);
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        var batches = new List<(string, Tensor)>();
        var rates = new List<double>();
        for (var step = 0; step < 3; step++)
        {
            var idx = randint(0, model.DeclaredVocab, new long[] { 4, model.Context + 1 }, dtype: ScalarType.Int64, generator: generator);
            batches.Add(($"batch{step}", idx));
            var (x, y) = (idx.narrow(1, 0, model.Context).to(device), idx.narrow(1, 1, model.Context).to(device));
            model.Loss(model.Features(x), y, options.ZLoss).backward();
            var lr = options.LearningRateAt(step);
            rates.Add(lr);
            flat.Step(lr);
            flat.ZeroGrad();
        }

        var after = model.named_parameters().Select(p => (p.name, p.parameter.detach().to(ScalarType.Float32).cpu().contiguous())).ToList();
        using (var stream = File.Create(Path.Combine(root, "after.safetensors")))
        {
            SafetensorsFile.Write(stream, after, new Dictionary<string, string> { ["format"] = "pt" });
        }

        using (var stream = File.Create(Path.Combine(root, "batches.safetensors")))
        {
            SafetensorsFile.Write(stream, batches, new Dictionary<string, string> { ["format"] = "pt" });
        }

        var roles = SlmGen.Layers.ParameterRoles.Of(model).ToDictionary(r => r.Name, r => r.Role.ToString());
        File.WriteAllText(Path.Combine(root, "recipe.json"), JsonSerializer.Serialize(new
        {
            model = descriptor.FullName,
            device = Devices.Describe(device),
            rates,
            peak = options.LearningRate,
            muon = new { lr = options.Muon.LearningRate, momentum = options.Muon.Momentum, nesterov = options.Muon.Nesterov, steps = options.Muon.NewtonSchulzSteps, weight_decay = options.Muon.WeightDecay },
            adamw = new { beta1 = options.Optimizer.Beta1, beta2 = options.Optimizer.Beta2, eps = options.Optimizer.Epsilon, weight_decay = options.Optimizer.WeightDecay, clip = options.Optimizer.GradientClip },
            group_lr = new { embedding = options.EmbeddingLearningRate, head = options.HeadLearningRate, gain = options.GainLearningRate },
            z_loss = options.ZLoss,
            roles,
            groups = flat.Groups.Select(g => g.Name),
        }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"recipe: {descriptor.FullName}, 3 steps at rates {string.Join(", ", rates)}; {flat.Groups.Count} groups: {string.Join(" | ", flat.Groups.Select(g => g.Name))}");
    }

    public static void HuggingFaceTokenizers(string root)
    {
        var data = Path.GetDirectoryName(SlmGen.Data.DataFiles.Root())!;
        var shakespeare = Corpora.Text("shakespeare-char");
        var ptb = Corpora.Text("ptb");
        var unicode = "naïve café — 東京タワー 🙂🙃 Ünïcödé\t tabs  and   spaces\n\n  Здравствуй, мир! ¿Qué tal? 1234567890 it's we'll they've";
        var cases = new List<(string Name, SlmGen.Data.ITokenizer Tokenizer, Dictionary<string, string> Texts)>
        {
            ("chars-shakespeare", Corpora.TinyShakespeare(CharSplit.NanoGpt).Tokenizer, new() { ["shakespeare-char/test"] = shakespeare.Test[..20_000] }),
            ("bytes", new SlmGen.Data.Tokenizers.ByteTokenizer(), new() { ["shakespeare-char/test"] = shakespeare.Test[..20_000], ["unicode"] = unicode }),
            ("words-ptb", Corpora.PennTreebank().Tokenizer, new() { ["ptb/test"] = string.Join("\n", ptb.Test.Split('\n').Take(300)) }),
            // The tiktoken encodings converted to Hugging Face's BPE (vocabulary = ranks, merges rebuilt).
            ("gpt2", SlmGen.Data.Tokenizers.TiktokenTextTokenizer.Gpt2(), new() { ["shakespeare-char/test"] = shakespeare.Test[..20_000], ["unicode"] = unicode }),
            ("cl100k", SlmGen.Data.Tokenizers.TiktokenTextTokenizer.Cl100k(), new() { ["shakespeare-char/test"] = shakespeare.Test[..20_000], ["unicode"] = unicode }),
        };
        foreach (var folder in Directory.GetDirectories(Path.Combine(data, "data", "tokenizers"), "bpe-*"))
        {
            cases.Add((Path.GetFileName(folder), SlmGen.Data.Tokenizers.BpeTextTokenizer.Load(folder), new() { ["shakespeare-char/test"] = shakespeare.Test[..20_000], ["ptb/test"] = ptb.Test[..20_000], ["unicode"] = unicode }));
        }

        foreach (var (name, tokenizer, texts) in cases)
        {
            var dir = Path.Combine(root, name);
            var special = SlmGen.Interop.HuggingFaceTokenizer.Write(tokenizer, dir, 256);
            var tensors = texts.Select(kv => (kv.Key, tensor(tokenizer.Encode(kv.Value).Select(i => (long)i).ToArray()))).ToList();
            using (var stream = File.Create(Path.Combine(dir, "ids.safetensors")))
            {
                SafetensorsFile.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" });
            }

            File.WriteAllText(Path.Combine(dir, "texts.json"), JsonSerializer.Serialize(new { texts, decoded = texts.ToDictionary(kv => kv.Key, kv => tokenizer.Decode(tokenizer.Encode(kv.Value))), vocab = tokenizer.VocabSize, bos = special.Bos, eos = special.Eos }));
            Console.WriteLine($"{name}: {string.Join(", ", tensors.Select(t => $"{t.Item1} {t.Item2.numel():N0} ids"))}");
        }
    }
}
