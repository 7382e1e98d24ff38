using System;
using System.CommandLine;
using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;

// Streams a continuation of a prompt from a GGUF model in llama.cpp: `GgufRun export/model.gguf "ROMEO:" --tokens 200`.
// Tokens are drawn from llama.cpp's logits with its own samplers; generation stops at the end-of-text token only when the
// vocabulary has one marked as such (SlmGen's BPE tokenizers), never at llama.cpp's default id 11 (a character or byte in
// SlmGen's character and byte vocabularies).
var file = new Argument<string>("model") { Description = "a GGUF file (slmgen export SPEC --gguf TYPE --out OUT writes OUT/model.gguf)" };
var prompt = new Argument<string>("prompt") { Description = "the text to continue", DefaultValueFactory = _ => "\n" };
var tokens = new Option<int>("--tokens") { Description = "tokens to generate", DefaultValueFactory = _ => 200 };
var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0.8f };
var topK = new Option<int>("--top-k") { Description = "keep the k most likely tokens (0 = all)", DefaultValueFactory = _ => 0 };
var topP = new Option<float>("--top-p") { Description = "keep the most likely tokens up to probability p", DefaultValueFactory = _ => 1f };
var seed = new Option<uint>("--seed") { Description = "sampling seed", DefaultValueFactory = _ => 0u };
var threads = new Option<int>("--threads") { Description = "CPU threads (0 = all cores)", DefaultValueFactory = _ => 0 };
var stats = new Option<bool>("--stats") { Description = "print the load time, the first token's latency, decode tokens/s and the process's peak memory to stderr" };
var root = new RootCommand("Generate text with a GGUF model exported by SlmGen, in llama.cpp (LLamaSharp).") { file, prompt, tokens, temperature, topK, topP, seed, threads, stats };
root.SetAction(r =>
{
    NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level >= LLamaLogLevel.Error) Console.Error.Write(message); });
    var clock = Stopwatch.StartNew();
    var parameters = new ModelParams(r.GetValue(file)!) { GpuLayerCount = 0, Threads = r.GetValue(threads) > 0 ? r.GetValue(threads) : Environment.ProcessorCount };
    using var weights = LLamaWeights.LoadFromFile(parameters);
    parameters.ContextSize = (uint)weights.ContextSize;
    using var context = weights.CreateContext(parameters);
    var loaded = clock.Elapsed.TotalMilliseconds;
    var text = r.GetValue(prompt)!;
    var ids = context.Tokenize(text, addBos: false, special: false);
    ISamplingPipeline sampler = r.GetValue(temperature) == 0
        ? new GreedySamplingPipeline()
        : new DefaultSamplingPipeline { Temperature = r.GetValue(temperature), TopK = r.GetValue(topK), TopP = r.GetValue(topP), Seed = r.GetValue(seed) };
    var decoder = new StreamingTokenDecoder(context);
    var endOfText = weights.Vocab.EOS is { } eos && (eos.GetAttributes(weights.Vocab) & LLamaTokenAttr.Control) != 0 ? eos : (LLamaToken?)null;
    Console.Write(text);
    clock.Restart();
    var batch = new LLamaBatch();
    for (var i = 0; i < ids.Length; i++)
    {
        batch.Add(ids[i], i, LLamaSeqId.Zero, i == ids.Length - 1);
    }

    double first = 0;
    var count = 0;
    var position = ids.Length;
    while (count < r.GetValue(tokens) && position < context.ContextSize)
    {
        if (context.Decode(batch) != DecodeResult.Ok)
        {
            Console.Error.WriteLine("error: llama_decode failed");
            return 1;
        }

        var next = sampler.Sample(context.NativeHandle, batch.TokenCount - 1);
        sampler.Accept(next);
        if (count++ == 0)
        {
            first = clock.Elapsed.TotalMilliseconds; // the prompt read and the first token drawn
        }

        if (next == endOfText)
        {
            break;
        }

        decoder.Add(next);
        Console.Write(decoder.Read());
        batch.Clear();
        batch.Add(next, position++, LLamaSeqId.Zero, true);
    }

    Console.WriteLine();
    if (r.GetValue(stats))
    {
        var rest = clock.Elapsed.TotalMilliseconds - first;
        Console.Error.WriteLine($"stats: runtime llama.cpp, load {loaded:0} ms, first token {first:0.0} ms, then {count - 1} tokens in {rest:0} ms = {(count - 1) / (rest / 1e3):0.0} tokens/s, peak memory {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:0.0} MiB");
    }

    return 0;
});
return root.Parse(args).Invoke();
