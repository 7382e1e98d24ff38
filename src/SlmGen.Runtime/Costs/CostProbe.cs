using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen;

/// <summary>What one real forward pass of a model did, counted from the tensors that flowed through it.</summary>
/// <param name="Parameters">Distinct trainable parameter elements of the module.</param>
/// <param name="ForwardFlops">Matmul and attention FLOPs of the pass.</param>
/// <param name="TrainingFlops">Forward plus backward FLOPs by the counting convention (linear backward 2×, attention 2.5×), of the training loss's path (a conditioned grouped head scores the target's group only).</param>
/// <param name="LinearFlops">FLOPs in linear layers (including a tied head).</param>
/// <param name="AttentionFlops">FLOPs in the T×T attention products.</param>
/// <param name="Predictions">Positions that produced logits.</param>
public sealed record MeasuredCost(long Parameters, long ForwardFlops, long TrainingFlops, long LinearFlops, long AttentionFlops, long Predictions)
{
    /// <summary>Forward FLOPs per prediction.</summary>
    public long ForwardFlopsPerPrediction => ForwardFlops / Predictions;

    /// <summary>Training FLOPs per prediction.</summary>
    public long TrainingFlopsPerPrediction => TrainingFlops / Predictions;
}

/// <summary>
/// An independent runtime counter: it hooks every matmul-carrying layer of an instantiated model, runs a
/// real forward pass, and counts FLOPs from the actual tensor shapes (2·rows·in·out per linear layer,
/// 4·B·T²·C per attention layer over the full T×T), the same convention PyTorch's FlopCounterMode uses.
/// It does not read the generated constants, so tests and the trainer compare the two.
/// </summary>
public static class CostProbe
{
    /// <summary>Measures one forward pass on random ids of shape (<paramref name="batch"/>, context), on the model's device.</summary>
    public static MeasuredCost Measure(SlmModel model, int batch = 2, bool lastPositionOnly = false)
    {
        // The hooks below count layers' calls; a fused linear layer (CUDA) would pass its module by.
        using var unfused = Native.FusedKernels.Suspend();
        var device = model.parameters().First().device;
        long linear = 0, attention = 0, lossOnly = 0;
        var removers = new List<Action>();
        foreach (var module in model.modules())
        {
            switch (module)
            {
                case Linear l:
                    var lw = l.weight!;
                    removers.Add(Hook(l, (input, _) => linear += 2 * (input.numel() / lw.shape[1]) * lw.shape[1] * lw.shape[0]));
                    break;
                case QuantLinear q:
                    removers.Add(Hook(q, (input, _) => linear += 2 * (input.numel() / q.InFeatures) * q.InFeatures * q.OutFeatures));
                    break;
                case GroupedHead { Conditioned: true } grouped:
                    // Its forward scores every group's positions (counted by its linears' hooks); training takes the
                    // loss, which scores the target's group only: one row of positions per prediction instead of G.
                    removers.Add(Hook(grouped, (input, _) => lossOnly += 2 * (input.numel() / grouped.Width) * grouped.Width * grouped.GroupSize * (grouped.Groups - 1)));
                    break;
                case TiedHead head:
                    removers.Add(Hook(head, (input, _) => linear += 2 * (input.numel() / head.Width) * head.Width * head.Vocab));
                    break;
                case CausalSelfAttention attn:
                    var attnHook = attn.register_forward_hook((m, input, adapters, output) =>
                    {
                        long b = input.shape[0], t = input.shape[1], c = attn.InnerWidth;
                        attention += 2 * 2 * b * t * t * c; // scores (q·kᵀ) and weighted values, over all query heads
                        return output;
                    });
                    removers.Add(attnHook.remove);
                    break;
            }
        }

        var wasTraining = model.training;
        try
        {
            model.eval();
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var idx = randint(0, model.Vocab, new long[] { batch, model.Context }, dtype: ScalarType.Int64, device: device);
            var logits = model.Logits(idx, lastPositionOnly);
            var predictions = logits.dim() == 3 ? logits.shape[0] * logits.shape[1] : logits.shape[0];
            return new MeasuredCost(
                model.CountParameters(),
                linear + attention,
                (3 * (linear - lossOnly)) + (7 * attention / 2),
                linear,
                attention,
                predictions);
        }
        finally
        {
            foreach (var remove in removers)
            {
                remove();
            }

            model.train(wasTraining);
        }
    }

    private static Action Hook(nn.Module<Tensor, Tensor> module, Action<Tensor, Tensor> count)
    {
        var handle = module.register_forward_hook((m, input, output) =>
        {
            count(input, output);
            return output;
        });
        return handle.remove;
    }
}
