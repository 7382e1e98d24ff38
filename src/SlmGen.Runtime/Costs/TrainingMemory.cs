using System;

namespace SlmGen;

/// <summary>
/// The predicted peak of GPU memory that a training step allocates (what PyTorch's <c>max_memory_allocated</c>
/// reports for the model's twin trained in fp32 with <c>torch.optim.AdamW</c>, gradients set to none between steps),
/// from the build-time constants. Two moments compete:
/// <list type="bullet">
/// <item>the start of the backward pass: the weights (4 bytes a parameter) and AdamW's two moments (8), no gradients
/// yet; per sequence the activations the forward pass keeps (<see cref="ModelCost.ActivationBytesPerSequenceFp32"/>,
/// the logits among them), the loss's log-softmax (as large as the fp32 logits) and, while the loss's backward runs,
/// the gradient of the log-probabilities and of the logits (two more of that size);</item>
/// <item>the optimizer step: weights, gradients (4) and moments, plus AdamW's foreach temporaries (two parameter-sized
/// fp32 lists: 8) — 24 bytes a parameter.</item>
/// </list>
/// This is a prediction written before any measurement (issue 22): <c>scripts/gpu/peak_memory.py</c> compares it with
/// PyTorch's figure on the GPU machine, and docs/costs.md will state the measured error once it has run.
/// </summary>
public static class TrainingMemory
{
    /// <summary>The predicted peak bytes of an fp32 training step of <paramref name="batch"/> sequences.</summary>
    public static long PeakBytes(long parameters, long activationBytesPerSequenceFp32, long logitsBytesPerSequenceFp32, int batch)
    {
        if (batch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, "at least one sequence");
        }

        checked
        {
            var backwardStart = (12 * parameters) + (batch * (activationBytesPerSequenceFp32 + (3 * logitsBytesPerSequenceFp32)));
            var optimizerStep = 24 * parameters;
            return Math.Max(backwardStart, optimizerStep);
        }
    }

    /// <summary>The predicted peak bytes of an fp32 training step of <paramref name="batch"/> sequences of this model.</summary>
    public static long PeakBytes(this ModelCost cost, int batch) =>
        PeakBytes(cost.Parameters, cost.ActivationBytesPerSequenceFp32, cost.LogitsBytesPerSequenceFp32, batch);
}
