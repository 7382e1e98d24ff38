using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Nodes;
using LLama;
using LLama.Common;
using LLama.Native;

// SlmGen.LlamaHost GGUF CONTEXT [f16-cache]: loads the GGUF file in llama.cpp and answers requests, one JSON line each:
//   {"op":"vocabulary"}                        → {"vocabulary":N}
//   {"op":"logits","ids":[…]}                  → {"logits":[[…],…]}  the logits after each id (one batch, a fresh cache)
//   {"op":"greedy","prompt":[…],"count":N}     → {"ids":[…]}          greedy decoding with llama.cpp's KV cache
//   {"op":"tokenize","text":"…"}               → {"ids":[…]}          llama.cpp's own tokenizer
//   {"op":"text","ids":[…]}                    → {"text":"…"}         the text llama.cpp's vocabulary gives the ids
// llama.cpp's log goes to standard error (the test shows its last lines when this process fails).
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: SlmGen.LlamaHost GGUF CONTEXT [f16-cache]");
    return 2;
}

NativeLibraryConfig.All.WithLogCallback((level, message) => { if (level >= LLamaLogLevel.Warning) Console.Error.Write(message); });
var context = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
var parameters = new ModelParams(args[0])
{
    ContextSize = (uint)context,
    BatchSize = (uint)context,
    UBatchSize = (uint)context,
    Threads = Environment.ProcessorCount,
    GpuLayerCount = 0,
    FlashAttention = false,
};
if (!(args.Length > 2 && args[2] == "f16-cache"))
{
    // An fp32 KV cache: the default fp16 cache rounds keys and values.
    parameters.TypeK = GGMLType.GGML_TYPE_F32;
    parameters.TypeV = GGMLType.GGML_TYPE_F32;
}

using var weights = LLamaWeights.LoadFromFile(parameters);
using var llama = weights.CreateContext(parameters);
var output = Console.Out;
while (Console.In.ReadLine() is { } line)
{
    var request = JsonNode.Parse(line)!.AsObject();
    int[] Ids(string key) => request[key]!.AsArray().Select(n => n!.GetValue<int>()).ToArray();
    JsonObject answer = request["op"]!.GetValue<string>() switch
    {
        "vocabulary" => new JsonObject { ["vocabulary"] = weights.Vocab.Count },
        "logits" => new JsonObject { ["logits"] = JsonSerializer.SerializeToNode(Logits(Ids("ids"))) },
        "greedy" => new JsonObject { ["ids"] = JsonSerializer.SerializeToNode(Greedy(Ids("prompt"), request["count"]!.GetValue<int>())) },
        "tokenize" => new JsonObject { ["ids"] = JsonSerializer.SerializeToNode(llama.Tokenize(request["text"]!.GetValue<string>(), addBos: false, special: false).Select(t => (int)t).ToArray()) },
        "text" => new JsonObject { ["text"] = Text(Ids("ids")) },
        var op => throw new InvalidDataException($"unknown request '{op}'"),
    };
    output.WriteLine(answer.ToJsonString());
    output.Flush();
}

return 0;

float[][] Logits(int[] ids)
{
    llama.NativeHandle.MemoryClear();
    var batch = new LLamaBatch();
    for (var i = 0; i < ids.Length; i++)
    {
        batch.Add(ids[i], i, LLamaSeqId.Zero, true);
    }

    Check(llama.Decode(batch));
    return Enumerable.Range(0, ids.Length).Select(i => llama.NativeHandle.GetLogitsIth(i).ToArray()).ToArray();
}

List<int> Greedy(int[] prompt, int count)
{
    llama.NativeHandle.MemoryClear();
    var batch = new LLamaBatch();
    for (var i = 0; i < prompt.Length; i++)
    {
        batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
    }

    var tokens = new List<int>();
    var position = prompt.Length;
    for (var step = 0; step < count; step++)
    {
        Check(llama.Decode(batch));
        var logits = llama.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
        var next = 0;
        for (var v = 1; v < logits.Length; v++)
        {
            if (logits[v] > logits[next])
            {
                next = v;
            }
        }

        tokens.Add(next);
        batch.Clear();
        batch.Add(next, position++, LLamaSeqId.Zero, true);
    }

    return tokens;
}

string Text(int[] ids)
{
    var decoder = new StreamingTokenDecoder(llama);
    decoder.AddRange(ids.Select(i => (LLamaToken)i).ToList());
    return decoder.Read();
}

static void Check(DecodeResult result)
{
    if (result != DecodeResult.Ok)
    {
        throw new InvalidOperationException($"llama_decode: {result}");
    }
}
