using System;
using System.Collections.Generic;
using System.Linq;
using LLama;
using LLama.Common;
using LLama.Native;

namespace SlmGen.Runtime.Tests;

/// <summary>llama.cpp through LLamaSharp (CPU backend), driven token by token: what a GGUF file computes.</summary>
internal sealed class LlamaCpp : IDisposable
{
    private static readonly object Configure = new();
    private static bool configured;
    private readonly LLamaWeights weights;
    private readonly LLamaContext context;

    public LlamaCpp(string path, int context, bool fp32Cache = true)
    {
        lock (Configure)
        {
            if (!configured)
            {
                NativeLibraryConfig.All.WithLogCallback((level, message) => { }); // llama.cpp's log is quiet in tests
                configured = true;
            }
        }

        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)context,
            BatchSize = (uint)context,
            UBatchSize = (uint)context,
            Threads = Environment.ProcessorCount,
            GpuLayerCount = 0,
            FlashAttention = false,
        };
        if (fp32Cache)
        {
            // An fp32 KV cache: the default fp16 cache rounds keys and values.
            parameters.TypeK = GGMLType.GGML_TYPE_F32;
            parameters.TypeV = GGMLType.GGML_TYPE_F32;
        }

        weights = LLamaWeights.LoadFromFile(parameters);
        this.context = weights.CreateContext(parameters);
    }

    public int Vocabulary => weights.Vocab.Count;

    /// <summary>A character tokenizer of exactly <paramref name="size"/> characters (new line, ASCII, then Latin and beyond).</summary>
    public static SlmGen.Data.CharTokenizer Characters(int size)
    {
        var chars = new System.Text.StringBuilder("\n");
        for (var c = 32; chars.Length < size; c++)
        {
            if (c is >= 127 and < 0xA1 || char.IsSurrogate((char)c))
            {
                continue;
            }

            chars.Append((char)c);
        }

        return new SlmGen.Data.CharTokenizer(chars.ToString());
    }

    /// <summary>The logits after each of <paramref name="ids"/> (one batch, a fresh cache).</summary>
    public float[][] Logits(IReadOnlyList<int> ids)
    {
        context.NativeHandle.MemoryClear();
        var batch = new LLamaBatch();
        for (var i = 0; i < ids.Count; i++)
        {
            batch.Add(ids[i], i, LLamaSeqId.Zero, true);
        }

        Check(context.Decode(batch));
        return Enumerable.Range(0, ids.Count).Select(i => context.NativeHandle.GetLogitsIth(i).ToArray()).ToArray();
    }

    /// <summary>Greedy decoding with llama.cpp's KV cache: the prompt in one batch, then one token per step.</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int count)
    {
        context.NativeHandle.MemoryClear();
        var batch = new LLamaBatch();
        for (var i = 0; i < prompt.Count; i++)
        {
            batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        }

        var tokens = new List<int>();
        var position = prompt.Count;
        for (var step = 0; step < count; step++)
        {
            Check(context.Decode(batch));
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
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

    /// <summary>The text llama.cpp's vocabulary gives the ids.</summary>
    public string Text(IReadOnlyList<int> ids)
    {
        var decoder = new StreamingTokenDecoder(context);
        decoder.AddRange(ids.Select(i => (LLamaToken)i).ToList());
        return decoder.Read();
    }

    /// <summary>llama.cpp's own tokenizer on <paramref name="text"/>.</summary>
    public int[] Tokenize(string text) => context.Tokenize(text, addBos: false, special: false).Select(t => (int)t).ToArray();

    private static void Check(DecodeResult result)
    {
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode: {result}");
        }
    }

    public void Dispose()
    {
        context.Dispose();
        weights.Dispose();
    }
}
