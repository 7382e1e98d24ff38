using System;
using System.Collections.Generic;
using System.Linq;
using SlmGen.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Artifacts;

/// <summary>
/// The input statistics GPTQ needs: for every linear layer of a model, Xᵀ X over the rows its input took on a
/// calibration sample (windows of the training data), summed over every application of a shared layer; by the
/// layer's weight name.
/// </summary>
public static class Calibration
{
    /// <summary>Runs <paramref name="windows"/> (token ids [n, context]) through <paramref name="model"/> in batches of <paramref name="batch"/> and returns Xᵀ X for each linear weight (CPU, float32).</summary>
    public static Dictionary<string, Tensor> Hessians(SlmModel model, Tensor windows, int batch = 8)
    {
        var sums = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var removers = new List<Action>();
        var wasTraining = model.training;
        model.eval();
        // The hooks below see layers' calls; a fused linear layer (CUDA) would pass its module by.
        using var unfused = Native.FusedKernels.Suspend();
        try
        {
            foreach (var (name, module) in model.named_modules())
            {
                if (module is not (Linear or QuantLinear))
                {
                    continue;
                }

                var key = name.Length == 0 ? "weight" : name + ".weight";
                var layer = (nn.Module<Tensor, Tensor>)module;
                var remover = layer.register_forward_pre_hook((_, input) =>
                {
                    using var noGrad = no_grad();
                    var x = input.detach().reshape(-1, input.shape[^1]).to(ScalarType.Float32).cpu();
                    var xtx = x.mT.matmul(x);
                    if (sums.TryGetValue(key, out var sum))
                    {
                        sum.PlusInPlace(xtx);
                        xtx.Dispose();
                    }
                    else
                    {
                        sums[key] = xtx.DetachFromDisposeScope();
                    }

                    x.Dispose();
                    return input;
                });
                removers.Add(remover.remove);
            }

            using var noGrad = no_grad();
            var device = model.parameters().First().device;
            for (long start = 0; start < windows.shape[0]; start += batch)
            {
                using var scope = NewDisposeScope();
                var ids = windows.narrow(0, start, Math.Min(batch, windows.shape[0] - start)).to(device);
                _ = model.Logits(ids, lastPositionOnly: false);
            }
        }
        finally
        {
            foreach (var remove in removers)
            {
                remove();
            }

            model.train(wasTraining);
        }

        return sums;
    }
}
