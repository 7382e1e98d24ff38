using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Generation;
using SlmGen.Inference;
using SlmGen.Onnx;
using static TorchSharp.torch;

namespace SlmGen.Cli;

/// <summary>
/// <c>slmgen sample --runtime onnx</c>: the model's decode graph (<see cref="OnnxExport"/>) run by SlmGen.Inference's
/// <see cref="LanguageModel"/> — what an app runs — with tokens drawn by the TorchSharp path's own
/// <see cref="TextGenerator.Draw"/> and its random numbers, so greedy and seeded sampling give the TorchSharp path's text.
/// </summary>
public static class OnnxSampler
{
    public static int[] Generate(SlmModel model, IReadOnlyList<int> prompt, int count, SamplingOptions options, Action<int>? onToken = null)
    {
        options.Validate();
        model.eval();
        var manifest = OnnxFolder.Manifest(model, null, false, "fp32");
        using var language = LanguageModel.FromGraph(OnnxExport.Build(model, decode: true), manifest);
        var generator = new TorchSharp.torch.Generator((ulong)options.Seed, CPU);
        var settings = new SamplingSettings(MaxTokens: count, StopAtEndOfText: false);
        var tokens = new List<int>(count);
        foreach (var next in language.Tokens(prompt, settings, row =>
        {
            using var logits = tensor(row);
            return TextGenerator.Draw(logits, options, generator);
        }))
        {
            tokens.Add(next);
            onToken?.Invoke(next);
        }

        return tokens.ToArray();
    }
}
