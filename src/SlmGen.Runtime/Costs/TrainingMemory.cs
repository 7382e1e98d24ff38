using System;

namespace SlmGen;

/// <summary>
/// The predicted peak of GPU memory that a training step allocates (what PyTorch's <c>max_memory_allocated</c>
/// reports for the model's twin trained in fp32 with <c>torch.optim.AdamW</c> — its default foreach implementation —
/// gradients set to none between steps, cross-entropy over every position), from the build-time constants. Two
/// moments compete:
/// <list type="bullet">
/// <item>the start of the backward pass: the weights (4 bytes a parameter) and AdamW's two moments (8), no gradients
/// yet; per sequence what autograd keeps (<see cref="ModelCost.ActivationBytesPerSequenceFp32"/>, counted tensor by
/// tensor — see the generator's <c>SavedActivations</c> — with the loss's log-probabilities among them) and, while the
/// loss's backward runs, the gradients of the log-probabilities and of the logits (two tensors of the logits' size);</item>
/// <item>the optimizer step: weights, gradients (4) and moments, plus the one parameter-sized temporary of the foreach
/// AdamW (the square root of the second moment): 20 bytes a parameter.</item>
/// </list>
/// Both hold the batch's token ids (int64, context + 1 a sequence) and the BLAS workspaces that PyTorch allocates through
/// its caching allocator at the first matrix product (<see cref="CudaLibraryWorkspaceBytes"/>). The caching allocator's
/// rounding of blocks and the short-lived buffers of each layer's backward are not modelled; docs/costs.md ("Memory")
/// gives the measured error.
/// </summary>
public static class TrainingMemory
{
    /// <summary>
    /// cuBLAS's and cuBLASLt's workspaces, which PyTorch takes from its caching allocator (so <c>max_memory_allocated</c>
    /// counts them) once a process has run a matrix product on a GPU: 65 MiB, measured on the H200 with torch 2.11 /
    /// CUDA 13 (<c>allocated_before_step</c> of results/memory/peak-memory.jsonl minus weights, moments and ids: 65.0–65.5 MiB
    /// over 16 designs). The figure belongs to the device and library, not the model; it is a fixed part of every
    /// prediction and matters only for small models.
    /// </summary>
    public const long CudaLibraryWorkspaceBytes = 65L << 20;

    /// <summary>The predicted peak bytes of an fp32 training step of <paramref name="batch"/> sequences of <paramref name="context"/> tokens.</summary>
    public static long PeakBytes(long parameters, long activationBytesPerSequenceFp32, long logitsBytesPerSequenceFp32, int batch, long context)
    {
        if (batch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(batch), batch, "at least one sequence");
        }

        checked
        {
            var ids = batch * (context + 1) * 8;
            var backwardStart = (12 * parameters) + (batch * (activationBytesPerSequenceFp32 + (2 * logitsBytesPerSequenceFp32))) + ids;
            var optimizerStep = (20 * parameters) + ids;
            return Math.Max(backwardStart, optimizerStep) + CudaLibraryWorkspaceBytes;
        }
    }

    /// <summary>The predicted peak bytes of an fp32 training step of <paramref name="batch"/> sequences of this model.</summary>
    public static long PeakBytes(this ModelCost cost, int batch) =>
        PeakBytes(cost.Parameters, cost.ActivationBytesPerSequenceFp32, cost.LogitsBytesPerSequenceFp32, batch, cost.Context);
}
