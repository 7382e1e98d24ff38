using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Data;
using SlmGen.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>Measures a model's NLL on a split under an <see cref="EvalProtocol"/>.</summary>
public static class Evaluator
{
    /// <summary>
    /// Evaluates the whole split in order (<see cref="EvalProtocol.Sequential"/>) and measures the scored text itself —
    /// the tokens scored, decoded by <paramref name="tokenizer"/> — so that the result also gives bits per character
    /// and per byte, which compare across tokenizers.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="tokens">The split.</param>
    /// <param name="tokenizer">Its tokenizer (to decode the scored text).</param>
    /// <param name="batchSize">Windows per forward pass.</param>
    /// <param name="device">Where to run.</param>
    /// <param name="protocol">Sequential (default: non-overlapping windows) or <see cref="EvalProtocol.Sliding"/>.</param>
    public static EvalResult EvaluateText(SlmModel model, int[] tokens, Data.ITokenizer tokenizer, int batchSize, Device device, EvalProtocol? protocol = null)
    {
        var objective = model.PredictsEveryPosition ? Objective.EveryPosition : Objective.LastPosition;
        protocol ??= EvalProtocol.Sequential();
        if (protocol.Kind is not (EvalKind.Sequential or EvalKind.Sliding))
        {
            throw new ArgumentException($"Scoring a text takes the sequential or the sliding protocol, not {protocol}.", nameof(protocol));
        }

        var result = Evaluate(model, tokens, protocol, objective, batchSize, device);
        // Every-position models score tokens 1 .. n·T of the n non-overlapping windows; one-prediction models the
        // token after each window, context .. context + n − 1.
        var context = model.Context;
        var first = model.PredictsEveryPosition ? 1 : context;
        var text = tokenizer.Decode(tokens.Skip(first).Take((int)result.Tokens));
        return result with { Characters = text.Length, Bytes = System.Text.Encoding.UTF8.GetByteCount(text) };
    }

    /// <summary>The activation bytes an evaluation batch may hold: a batch's intermediate tensors live until the batch ends.</summary>
    public const long ActivationBudgetBytes = 1L << 30;

    /// <summary>
    /// <paramref name="requested"/> windows a batch, or fewer so that the batch's activations (the cost report's fp32
    /// activation bytes per sequence — what a forward pass creates) stay within <see cref="ActivationBudgetBytes"/>; at
    /// least one. The sums are the same at any batch size; only the peak memory changes (a 24 M-parameter model at context
    /// 512 held 9.7 GB at 32 windows a batch).
    /// </summary>
    public static int BatchWithin(SlmModel model, int requested)
    {
        var perSequence = Math.Max(1, model.Cost.ActivationBytesPerSequenceFp32);
        return (int)Math.Clamp(ActivationBudgetBytes / perSequence, 1, Math.Max(1, requested));
    }

    /// <summary>Evaluates in eval mode (no dropout) without gradients; one host synchronisation at the end.</summary>
    public static EvalResult Evaluate(SlmModel model, int[] tokens, EvalProtocol protocol, Objective objective, int batchSize, Device device, SplitMix64? rng = null)
    {
        SlmGen.Native.CHeap.PrepareFor(device);
        if (protocol.Kind is EvalKind.Sequential or EvalKind.Sliding)
        {
            batchSize = BatchWithin(model, batchSize); // whole splits: the same windows at any batch size (random batches keep theirs)
        }
        if (protocol.Kind == EvalKind.Sliding && model.PredictsEveryPosition)
        {
            return Sliding(model, tokens, protocol, batchSize, device) with { Protocol = protocol.ToString() };
        }

        var context = model.Context;
        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var total = zeros(1, dtype: ScalarType.Float64, device: device);
            long scored = 0;
            var batches = 0;
            foreach (var (starts, obj) in Plan(model, tokens.Length, protocol, objective, batchSize, rng))
            {
                using (NewDisposeScope())
                {
                    using var batch = Windows.Make(tokens, starts, context, obj, device);
                    var logits = model.Logits(batch.Inputs, lastPositionOnly: obj == Objective.LastPosition);
                    var loss = NextTokenLoss.PerPosition(logits, batch.Targets, model.DeclaredVocab).sum();
                    total.PlusInPlace(loss.to(ScalarType.Float64));
                    scored += batch.Targets.numel();
                }

                if (device.type == DeviceType.CPU && ++batches % 8 == 0)
                {
                    SlmGen.Native.CHeap.Trim(); // every 8 batches, the batch's tensors freed: the retained memory stays bounded at a small cost in time
                }
            }

            if (scored == 0)
            {
                throw new ArgumentException($"The split ({tokens.Length:N0} tokens) is too short to evaluate with a context of {context}.");
            }

            return new EvalResult(total.item<double>() / scored, scored) { Protocol = protocol.ToString() };
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// The sliding-window protocol for models that predict every position: windows at 0, stride, 2·stride, …, and one
    /// ending at the split's last token; window w scores the positions after what the windows before it scored.
    /// </summary>
    private static EvalResult Sliding(SlmModel model, int[] tokens, EvalProtocol protocol, int batchSize, Device device)
    {
        var context = model.Context;
        var stride = protocol.Count;
        if (stride < 1 || stride > context)
        {
            throw new ArgumentException($"A sliding window's stride must be from 1 to the context ({context}), not {stride}.", nameof(protocol));
        }

        if (tokens.Length < context + 1)
        {
            throw new ArgumentException($"The split ({tokens.Length:N0} tokens) is too short to evaluate with a context of {context}.");
        }

        // (start, first position scored): targets are tokens start + 1 … start + context.
        var windows = new List<(long Start, int From)>();
        long scoredUpTo = 0; // the last target index scored so far
        long last = tokens.Length - context - 1;
        for (long s = 0; ; s = Math.Min(s + stride, last))
        {
            var from = (int)Math.Max(0, scoredUpTo - s); // position p scores target s + 1 + p
            windows.Add((s, from));
            scoredUpTo = s + context;
            if (s == last)
            {
                break;
            }
        }

        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var total = zeros(1, dtype: ScalarType.Float64, device: device);
            long scored = 0;
            for (var i = 0; i < windows.Count; i += batchSize)
            {
                using var scope = NewDisposeScope();
                var part = windows.GetRange(i, Math.Min(batchSize, windows.Count - i));
                using var batch = Windows.Make(tokens, part.Select(w => w.Start).ToArray(), context, Objective.EveryPosition, device);
                var logits = model.Logits(batch.Inputs, lastPositionOnly: false);
                var losses = NextTokenLoss.PerPosition(logits, batch.Targets, model.DeclaredVocab).view(part.Count, context);
                var mask = new float[part.Count * context];
                for (var b = 0; b < part.Count; b++)
                {
                    for (var p = part[b].From; p < context; p++)
                    {
                        mask[(b * context) + p] = 1;
                    }

                    scored += context - part[b].From;
                }

                total.PlusInPlace((losses * tensor(mask, device: device).view(part.Count, context)).sum().to(ScalarType.Float64));
            }

            return new EvalResult(total.item<double>() / scored, scored);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static IEnumerable<(long[] Starts, Objective Objective)> Plan(SlmModel model, int length, EvalProtocol protocol, Objective objective, int batchSize, SplitMix64? rng)
    {
        var context = model.Context;
        var windows = Windows.Count(length, context);
        var perWindow = model.PredictsEveryPosition ? objective : Objective.LastPosition;
        switch (protocol.Kind)
        {
            case EvalKind.FirstWindows:
            {
                var n = Math.Min(protocol.Count, windows);
                for (long s = 0; s < n; s += batchSize)
                {
                    yield return (Range(s, 1, Math.Min(batchSize, n - s)), Objective.LastPosition);
                }

                break;
            }

            case EvalKind.Sequential when model.PredictsEveryPosition:
            {
                // Non-overlapping windows; every position scored.
                var limit = protocol.Count > 0 ? Math.Min(protocol.Count, length) : length;
                var starts = new List<long>();
                for (long s = 0; s + context < limit; s += context)
                {
                    starts.Add(s);
                }

                for (var i = 0; i < starts.Count; i += batchSize)
                {
                    yield return (starts.GetRange(i, Math.Min(batchSize, starts.Count - i)).ToArray(), Objective.EveryPosition);
                }

                break;
            }

            case EvalKind.Sequential:
            {
                // One prediction per window: every window, stride 1, so that every token after the first window is scored.
                var limit = protocol.Count > 0 ? Math.Min(protocol.Count, length) : length;
                var n = Windows.Count(limit, context);
                for (long s = 0; s < n; s += batchSize)
                {
                    yield return (Range(s, 1, Math.Min(batchSize, n - s)), Objective.LastPosition);
                }

                break;
            }

            default:
            {
                var r = rng ?? new SplitMix64(12345);
                for (var b = 0; b < protocol.Count; b++)
                {
                    yield return (Windows.RandomStarts(r, length, context, batchSize), perWindow);
                }

                break;
            }
        }
    }

    private static long[] Range(long start, long step, long count)
    {
        var result = new long[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = start + (i * step);
        }

        return result;
    }
}
