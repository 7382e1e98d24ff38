using System;
using SlmGen.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Native;

/// <summary>
/// SlmGen's fused CUDA kernels (libslmgen_native built with nvcc: src/SlmGen.Native/fused_kernels.cu) for the training
/// step's elementwise chains — residual add + LayerNorm/RMSNorm, RMSNorm alone, bias + GELU (erf) / squared ReLU, the
/// SwiGLU gate, the rotary embedding of queries and keys, and the next-token cross-entropy (its gradient written from
/// the logits and one log-sum-exp per row: no fp32 copy, saved log-softmax or one-hot) — each with its backward pass
/// inside libtorch's autograd and capturable in a CUDA graph. The layers
/// call <see cref="Applies"/> and take the fused path for CUDA tensors when the library has the kernels, their
/// unfused TorchSharp code otherwise; both compute the same values to float rounding (each kernel rounds where the
/// unfused code rounds). <see cref="Status"/> is the one line a training log prints.
/// </summary>
public static class FusedKernels
{
    /// <summary>The exact (erf) GELU of <see cref="BiasAct"/>.</summary>
    public const int Gelu = 0;

    /// <summary>max(x, 0)² of <see cref="BiasAct"/>.</summary>
    public const int ReluSquared = 1;

    /// <summary>
    /// Whether the layers may use the kernels: on unless the environment sets SLMGEN_FUSED=0 (they passed
    /// `Bench --check-fused` on an H100: results/fused/README.md); a benchmark switches it to time both paths.
    /// </summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("SLMGEN_FUSED") != "0";

    /// <summary>Whether CUDA tensors take the fused path now (not while <see cref="Suspend"/> holds it off).</summary>
    public static bool Ready => Enabled && suspended == 0 && CudaNative.HasFusedKernels;

    [ThreadStatic]
    private static int suspended;

    /// <summary>
    /// Holds the fused path off on this thread until the result is disposed: for code that observes the layers' modules
    /// with hooks (the runtime FLOP counter, GPTQ's calibration), which a fused linear layer would pass by.
    /// </summary>
    public static IDisposable Suspend()
    {
        suspended++;
        return new Resume();
    }

    private sealed class Resume : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            if (!done)
            {
                done = true;
                suspended--;
            }
        }
    }

    /// <summary>One line: whether the kernels are used, and why not.</summary>
    public static string Status =>
        !Enabled ? "fused kernels: off (SLMGEN_FUSED=0 or FusedKernels.Enabled = false)"
        : !CudaNative.Available ? $"fused kernels: off ({CudaNative.Reason})"
        : !CudaNative.HasFusedKernels ? "fused kernels: off (libslmgen_native was built without nvcc; rebuild it with src/SlmGen.Native/build.sh where CUDA's compiler is)"
        : "fused kernels: on (libslmgen_native: add + norm, RMSNorm, bias + GELU / squared ReLU, SwiGLU"
          + (CudaNative.HasLossAndRopeKernels ? ", RoPE, cross-entropy" : "; no cross-entropy or RoPE kernels in this build: see fused-build.log")
          + (CudaNative.HasLinearKernel ? ", biased linear layers' bias gradients)" : "; no column-sum kernels in this build: see fused-build.log)");

    /// <summary>
    /// Whether the fused path takes <paramref name="x"/> with these companions: a CUDA tensor of a floating type, the
    /// others (when present) of its dtype and device, and the kernels ready. CPU tensors never load the library.
    /// </summary>
    public static bool Applies(Tensor x, Tensor? a = null, Tensor? b = null, Tensor? c = null) =>
        x.device_type == DeviceType.CUDA
        && x.dtype is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16
        && Same(x, a) && Same(x, b) && Same(x, c)
        && Ready;

    /// <summary>norm(x) · weight + bias over the last dimension (RMSNorm when <paramref name="rms"/>, else LayerNorm).</summary>
    public static Tensor Norm(Tensor x, Tensor? weight, Tensor? bias, double eps, bool rms, bool doubleRound) =>
        CudaNative.Norm(x, weight, bias, eps, rms, doubleRound);

    /// <summary>s = x + residual and norm(s) · weight + bias in one pass.</summary>
    public static (Tensor Sum, Tensor Normed) AddNorm(Tensor x, Tensor residual, Tensor? weight, Tensor? bias, double eps, bool rms, bool doubleRound) =>
        CudaNative.AddNorm(x, residual, weight, bias, eps, rms, doubleRound);

    /// <summary>
    /// Whether the fused biased linear layer takes <paramref name="x"/> (…, in) with this weight and bias: gradients are
    /// being recorded (its gain is all in backward: under no_grad — evaluation, decoding — libtorch's addmm runs, with no
    /// custom function's host cost on a launch-bound token), the tensors qualify for <see cref="Applies"/>, x has at
    /// least two dimensions, and the library has the kernel.
    /// </summary>
    public static bool LinearApplies(Tensor x, Tensor weight, Tensor bias) => x.dim() >= 2 && is_grad_enabled() && Applies(x, weight, bias) && CudaNative.HasLinearKernel;

    /// <summary>rows (N, in) · weightᵀ + bias, the bias's gradient from SlmGen's column-sum kernel.</summary>
    public static Tensor Linear(Tensor rows, Tensor weight, Tensor bias) => CudaNative.LinearBias(rows, weight, bias);

    /// <summary>act(x + bias), <paramref name="activation"/> one of <see cref="Gelu"/>, <see cref="ReluSquared"/>.</summary>
    public static Tensor BiasAct(Tensor x, Tensor? bias, int activation) => CudaNative.BiasAct(x, bias, activation);

    /// <summary>silu(gate) · value.</summary>
    public static Tensor SwiGlu(Tensor gate, Tensor value) => CudaNative.SwiGlu(gate, value);

    /// <summary>
    /// Whether the fused cross-entropy takes logits (rows, vocabulary) of a floating type on a CUDA device with one int64
    /// target per row on that device, and the library has it.
    /// </summary>
    public static bool CrossEntropyApplies(Tensor logits, Tensor targets) =>
        logits.device_type == DeviceType.CUDA && logits.dim() == 2
        && logits.dtype is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16
        && targets.dtype == ScalarType.Int64 && targets.dim() == 1 && targets.shape[0] == logits.shape[0]
        && targets.device_type == logits.device_type && targets.device_index == logits.device_index
        && Enabled && CudaNative.HasLossAndRopeKernels;

    /// <summary>
    /// Each row's loss (rows, fp32): log-sum-exp over the first <paramref name="realVocab"/> columns minus the target's
    /// logit, plus <paramref name="zLoss"/> · log-sum-exp²; the padded columns take no probability and no gradient.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, long realVocab, double zLoss) => CudaNative.CrossEntropy(logits, targets, realVocab, zLoss);

    /// <summary>
    /// Whether the fused rotation takes queries or keys <paramref name="x"/> (B, H, T, D) with fp32 tables on its device.
    /// </summary>
    public static bool RopeApplies(Tensor x, Tensor table) =>
        x.dim() == 4 && table.dtype == ScalarType.Float32 && Applies(x) && table.device_type == x.device_type && table.device_index == x.device_index
        && CudaNative.HasLossAndRopeKernels;

    /// <summary>x (B, H, T, D) rotated at positions start .. start + T − 1 (the tables' width: the rotated dimensions); contiguous.</summary>
    public static Tensor Rope(Tensor x, Tensor cos, Tensor sin, long start) => CudaNative.Rope(x, cos, sin, start);

    /// <summary>
    /// The residual add and the norm that follows it (a block's <c>x + branch</c> and its next sublayer's input) in one
    /// kernel when <paramref name="norm"/> is a LayerNorm or one of SlmGen's RMSNorms and the tensors qualify; false (and
    /// nothing computed) otherwise.
    /// </summary>
    public static bool TryAddNorm(nn.Module<Tensor, Tensor> norm, Tensor x, Tensor residual, out Tensor sum, out Tensor normed)
    {
        sum = normed = null!;
        if (x.device_type != DeviceType.CUDA || !SameShape(x, residual))
        {
            return false;
        }

        switch (norm)
        {
            case TorchSharp.Modules.LayerNorm ln when Applies(x, residual, ln.weight, ln.bias):
                (sum, normed) = AddNorm(x, residual, ln.weight, ln.bias, ln.eps, rms: false, doubleRound: false);
                return true;
            case RmsNorm rms when Applies(x, residual, rms.Weight):
                (sum, normed) = AddNorm(x, residual, rms.Weight, null, rms.Eps, rms: true, doubleRound: true);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// A LayerNorm module's norm of <paramref name="x"/> in one kernel each way (libtorch's own takes three backward,
    /// its weight and bias gradients in a kernel that measured 62 µs a call at baby GPT's shape on an H100: results/fused/README.md)
    /// when the tensors qualify; false (and nothing computed) otherwise. SlmGen's RMSNorm fuses inside its own forward.
    /// </summary>
    public static bool TryNorm(nn.Module<Tensor, Tensor> norm, Tensor x, out Tensor normed)
    {
        normed = null!;
        if (x.device_type != DeviceType.CUDA || norm is not TorchSharp.Modules.LayerNorm ln || !Applies(x, ln.weight, ln.bias))
        {
            return false;
        }

        normed = Norm(x, ln.weight, ln.bias, ln.eps, rms: false, doubleRound: false);
        return true;
    }

    /// <summary>The fused activation for <paramref name="act"/>, or -1 when it has none.</summary>
    public static int KernelOf(Act act) => act switch
    {
        Act.Gelu => Gelu,
        Act.ReluSquared => ReluSquared,
        _ => -1,
    };

    /// <summary>Whether two tensors have one shape (the kernels that take two inputs elementwise need it).</summary>
    public static bool SameShape(Tensor a, Tensor b) => a.shape.AsSpan().SequenceEqual(b.shape);

    private static bool Same(Tensor x, Tensor? other) => other is null || (other.dtype == x.dtype && other.device_type == x.device_type && other.device_index == x.device_index);
}
