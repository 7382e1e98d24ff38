using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SlmGen.Generation;
using SlmGen.Onnx;
using static TorchSharp.torch;

namespace SlmGen.Cli;

/// <summary>
/// <c>slmgen sample --runtime onnx</c>: the model's decode graph (<see cref="OnnxExport"/>) run by ONNX Runtime on the CPU,
/// its KV cache carried from present to past while the text fits the context and windows of the last context tokens
/// recomputed after it (the exact mode of <see cref="TextGenerator"/>), tokens drawn by the same
/// <see cref="TextGenerator.Draw"/>: greedy decoding gives the TorchSharp path's tokens.
/// </summary>
public static class OnnxSampler
{
    public static int[] Generate(SlmModel model, IReadOnlyList<int> prompt, int count, SamplingOptions options, Action<int>? onToken = null)
    {
        options.Validate();
        model.eval();
        using var session = new InferenceSession(OnnxExport.Build(model, decode: true));
        var cacheInputs = session.InputMetadata.Where(i => i.Key.StartsWith("past_key_", StringComparison.Ordinal) || i.Key.StartsWith("past_value_", StringComparison.Ordinal)).ToList();
        Dictionary<string, DenseTensor<float>> Empty() => cacheInputs.ToDictionary(i => i.Key, i => new DenseTensor<float>(new[] { 1, i.Value.Dimensions[1], 0, i.Value.Dimensions[3] }));
        var past = Empty();
        var tokens = new List<int>(prompt.Count == 0 ? new[] { 0 } : prompt);
        var generator = new TorchSharp.torch.Generator((ulong)options.Seed, CPU);
        long position = 0, previous = 0;
        var feed = tokens.Select(t => (long)t).ToArray();
        for (var i = 0; i < count; i++)
        {
            if (position + feed.Length > model.Context)
            {
                // Past the context: a fresh window of the last context tokens, recomputed (as TextGenerator's exact mode does).
                past = Empty();
                position = 0;
                feed = tokens.Skip(Math.Max(0, tokens.Count - model.Context)).Select(t => (long)t).ToArray();
            }

            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(feed, new[] { 1, feed.Length })),
                NamedOnnxValue.CreateFromTensor("past_length", new DenseTensor<long>(new[] { position }, new[] { 1 })),
            };
            if (session.InputMetadata.ContainsKey("previous_token"))
            {
                inputs.Add(NamedOnnxValue.CreateFromTensor("previous_token", new DenseTensor<long>(new[] { previous }, new[] { 1, 1 })));
            }

            inputs.AddRange(past.Select(p => NamedOnnxValue.CreateFromTensor(p.Key, p.Value)));
            using var results = session.Run(inputs);
            var logits = results.Single(r => r.Name == "logits").AsTensor<float>();
            var last = new float[model.DeclaredVocab];
            for (var v = 0; v < last.Length; v++)
            {
                last[v] = logits[0, logits.Dimensions[1] - 1, v];
            }

            int next;
            using (var row = tensor(last))
            {
                next = TextGenerator.Draw(row, options, generator);
            }

            foreach (var r in results.Where(r => r.Name.StartsWith("present_", StringComparison.Ordinal)))
            {
                var t = r.AsTensor<float>();
                past["past_" + r.Name["present_".Length..]] = new DenseTensor<float>(t.ToArray(), t.Dimensions.ToArray());
            }

            position += feed.Length;
            previous = feed[^1];
            tokens.Add(next);
            feed = new long[] { next };
            onToken?.Invoke(next);
        }

        return tokens.Skip(prompt.Count == 0 ? 1 : prompt.Count).ToArray();
    }
}
