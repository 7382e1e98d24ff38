using System;
using System.CommandLine;
using SlmGen.Generation;
using SlmGen.Training;

namespace SlmGen.Cli.Commands;

/// <summary><c>slmgen sample</c>: streamed text from trained weights, with the KV cache.</summary>
public static class SampleCommand
{
    public static Command Create()
    {
        var spec = new Argument<string>("spec") { Description = "the model's YAML spec" };
        var weights = new Option<string?>("--checkpoint", "--weights") { Description = "a checkpoint (.ckpt) or a safetensors state_dict; without it, the untrained model" };
        var best = new Option<bool>("--best") { Description = "a checkpoint's best-validation weights" };
        var data = new Option<string>("--data") { Description = "the corpus whose tokenizer encodes the prompt and decodes the output", Required = true };
        var tokenizerOption = new Option<string?>("--tokenizer") { Description = "chars, bytes, words, gpt2, cl100k or bpe:DIR (default: the corpus's own)" };
        var prompt = new Option<string>("--prompt") { Description = "the text to continue", DefaultValueFactory = _ => "\n" };
        var tokens = new Option<int>("--tokens") { Description = "tokens to sample", DefaultValueFactory = _ => 200 }.Check(v => v >= 0, "must be 0 or more");
        var temperature = new Option<double>("--temperature") { Description = "softmax temperature; 0 = greedy", DefaultValueFactory = _ => 0.8 }.Check(v => double.IsFinite(v) && v >= 0, "must be 0 or more");
        var topK = new Option<int>("--top-k") { Description = "keep the k most likely tokens (0 = all)", DefaultValueFactory = _ => 0 }.Check(v => v >= 0, "must be 0 or more");
        var topP = new Option<double>("--top-p") { Description = "keep the most likely tokens up to probability p", DefaultValueFactory = _ => 1.0 }.Check(v => v > 0 && v <= 1, "must be in (0, 1]");
        var seed = new Option<long>("--seed") { Description = "sampling seed", DefaultValueFactory = _ => 0 };
        var cache = new Option<string>("--cache") { Description = "exact (the KV cache while the text fits the context, identical to recomputation), sliding (cache past the context too), off", DefaultValueFactory = _ => "exact" };
        cache.AcceptOnlyFromAmong("exact", "sliding", "off");
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda", DefaultValueFactory = _ => "auto" };
        var runtime = new Option<string>("--runtime") { Description = "torchsharp (the generated module), or onnx: the exported decode graph run by ONNX Runtime on the CPU (docs/interop.md)", DefaultValueFactory = _ => "torchsharp" };
        runtime.AcceptOnlyFromAmong("torchsharp", "onnx");
        var fp32 = new Option<bool>("--fp32") { Description = "decode in fp32 on CUDA too (default there: bf16, as train computes; the CPU always decodes in fp32)" };
        var stats = new Option<bool>("--stats") { Description = "print the first token's latency, decode tokens/s and the process's peak memory to stderr (docs/interop.md compares runtimes with it)" };
        var command = new Command("sample", "Generate text from a model, streamed as it is sampled.") { spec, weights, best, data, tokenizerOption, prompt, tokens, temperature, topK, topP, seed, cache, device, runtime, fp32, stats };
        command.SetAction(r =>
        {
            Cli.EnsureDataExists(r.GetValue(data)!);
            var dev = Devices.Resolve(r.GetValue(device));
            using var model = Cli.Model(r.GetValue(spec)!, r.GetValue(weights), dev, r.GetValue(best));
            var tokenizer = Cli.Data(r.GetValue(data)!, Cli.Tokenizer(r.GetValue(tokenizerOption), model, r.GetValue(spec)!)).Tokenizer;
            if (tokenizer.VocabSize != model.DeclaredVocab)
            {
                throw new CliException($"the model's vocabulary is {model.DeclaredVocab:N0}, the data's tokenizer has {tokenizer.VocabSize:N0}.");
            }

            var text = r.GetValue(prompt)!;
            var options = new SamplingOptions(r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP), r.GetValue(seed),
                r.GetValue(cache) switch { "off" => KvCacheMode.Off, "sliding" => KvCacheMode.Sliding, _ => KvCacheMode.Exact });
            Console.Write(text);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double first = 0;
            var count = 0;
            void Emit(int t)
            {
                if (count++ == 0)
                {
                    first = clock.Elapsed.TotalMilliseconds; // the prompt read and the first token drawn
                }

                Console.Write(tokenizer.Decode(new[] { t }));
            }

            if (r.GetValue(runtime) == "onnx")
            {
                if (!model.PredictsEveryPosition)
                {
                    throw new CliException($"--runtime onnx: {model.GetName()} reads whole windows (a flatten); its ONNX form has no decoding step: use --runtime torchsharp.");
                }

                OnnxSampler.Generate(model, tokenizer.Encode(text), r.GetValue(tokens), options, Emit);
            }
            else
            {
                DecodePrecision.Apply(model, dev, bf16: !r.GetValue(fp32));
                TextGenerator.Generate(model, tokenizer.Encode(text), r.GetValue(tokens), options, dev, Emit);
            }

            Console.WriteLine();
            if (r.GetValue(stats))
            {
                var rest = clock.Elapsed.TotalMilliseconds - first;
                Console.Error.WriteLine($"stats: runtime {r.GetValue(runtime)} ({dev.type.ToString().ToLowerInvariant()}{(r.GetValue(runtime) == "onnx" ? string.Empty : ", " + DecodePrecision.For(dev, !r.GetValue(fp32)).ToString().ToLowerInvariant())}), first token {first:0.0} ms, then {count - 1} tokens in {rest:0} ms = {(count - 1) / (rest / 1e3):0.0} tokens/s, peak memory {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0.0} MiB");
            }
            return 0;
        });
        return command;
    }
}
