using System;
using System.CommandLine;
using System.IO;
using SlmGen.Inference;

// Streams a continuation of a prompt from an exported SlmGen model: `ShipInApp export/onnx "ROMEO:" --tokens 200`.
var folder = new Argument<string>("model") { Description = "the folder `slmgen export SPEC --onnx --out OUT` wrote as OUT/onnx" };
var prompt = new Argument<string>("prompt") { Description = "the text to continue", DefaultValueFactory = _ => "\n" };
var tokens = new Option<int>("--tokens") { Description = "tokens to generate", DefaultValueFactory = _ => 200 };
var temperature = new Option<double>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0.8 };
var topK = new Option<int>("--top-k") { Description = "keep the k most likely tokens (0 = all)", DefaultValueFactory = _ => 0 };
var topP = new Option<double>("--top-p") { Description = "keep the most likely tokens up to probability p", DefaultValueFactory = _ => 1.0 };
var seed = new Option<int>("--seed") { Description = "sampling seed", DefaultValueFactory = _ => 0 };
var stats = new Option<bool>("--stats") { Description = "print the load time, the first token's latency, decode tokens/s and the process's peak memory to stderr" };
var root = new RootCommand("Generate text with a model exported by SlmGen (ONNX Runtime, no TorchSharp).") { folder, prompt, tokens, temperature, topK, topP, seed, stats };
root.SetAction(r =>
{
    try
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var model = LanguageModel.Load(r.GetValue(folder)!);
        var loaded = clock.Elapsed.TotalMilliseconds;
        var settings = new SamplingSettings(r.GetValue(tokens), r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP), r.GetValue(seed));
        settings.Validate();
        var text = r.GetValue(prompt)!;
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("the folder has no tokenizer.json: it was exported without a tokenizer");
        var promptIds = tokenizer.Encode(text); // a character the tokenizer lacks is an error before any output
        var stream = new TextStream(tokenizer, promptIds.Length > 0 ? promptIds[^1] : null);
        Console.Write(text);
        clock.Restart();
        double first = 0;
        var count = 0;
        foreach (var id in model.Tokens(promptIds, settings))
        {
            if (count++ == 0)
            {
                first = clock.Elapsed.TotalMilliseconds; // the prompt read and the first token drawn
            }

            Console.Write(stream.Push(id));
        }

        Console.Write(stream.Flush());
        Console.WriteLine();
        if (r.GetValue(stats))
        {
            var rest = clock.Elapsed.TotalMilliseconds - first;
            Console.Error.WriteLine($"stats: runtime onnx, load {loaded:0} ms, first token {first:0.0} ms, then {count - 1} tokens in {rest:0} ms = {(count - 1) / (rest / 1e3):0.0} tokens/s, peak memory {System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0.0} MiB");
        }

        return 0;
    }
    catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 2;
    }
});
return root.Parse(args).Invoke();
