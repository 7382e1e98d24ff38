using System;
using SlmGen.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>Fixed sine/cosine position vectors (Vaswani et al. 2017), added to the token embedding.</summary>
public sealed class SinusoidalPositions : nn.Module<Tensor, Tensor>
{
    private Tensor table;

    /// <summary>Creates the table for <paramref name="context"/> positions of width <paramref name="dim"/>.</summary>
    public SinusoidalPositions(int context, long dim) : base(nameof(SinusoidalPositions))
    {
        using var scope = NewDisposeScope();
        var pos = HeldScalars.Arange(context, dtype: ScalarType.Float32).unsqueeze(1);
        var div = exp(HeldScalars.Arange(0, dim, 2, dtype: ScalarType.Float32).Times(-Math.Log(10000.0) / dim));
        var t = zeros(context, dim);
        t[TensorIndex.Colon, TensorIndex.Slice(0, null, 2)] = sin(pos * div);
        t[TensorIndex.Colon, TensorIndex.Slice(1, null, 2)] = cos(pos * div).narrow(1, 0, dim / 2);
        table = t.MoveToOuterDisposeScope();
        register_buffer(nameof(table), table, persistent: false);
    }

    /// <summary>The table, (context, width), in fp32.</summary>
    public Tensor Table => table;

    /// <summary>Returns the vectors of the first <c>T</c> positions for input (B, T, ...).</summary>
    public override Tensor forward(Tensor x) => At(x, 0);

    /// <summary>Returns the vectors of positions <paramref name="start"/> .. start + T - 1 for input (B, T, ...) (incremental decoding: the new tokens' positions).</summary>
    public Tensor At(Tensor x, long start)
    {
        table = FixedTables.OnDeviceOf(table, x);
        return table.narrow(0, start, x.shape[1]).to(x.dtype);
    }
}

/// <summary>Rotary position embedding (rotate-half form, as in GPT-NeoX and LLaMA) for (B, H, T, head_dim) tensors.</summary>
public sealed class RotaryEmbedding : nn.Module<Tensor, Tensor>
{
    private Tensor cos_cached;
    private Tensor sin_cached;

    /// <summary>Creates the rotation tables for <paramref name="context"/> positions.</summary>
    public RotaryEmbedding(int context, long headDim, double theta = 10000.0) : base(nameof(RotaryEmbedding))
    {
        if (headDim % 2 != 0)
        {
            throw new ArgumentException($"RoPE needs an even head dimension, got {headDim}.", nameof(headDim));
        }

        using var scope = NewDisposeScope();
        var invFreq = pow(tensor(theta), HeldScalars.Arange(0, headDim, 2, dtype: ScalarType.Float64).Over(headDim)).InverseTimes(1.0);
        var angles = outer(HeldScalars.Arange(context, dtype: ScalarType.Float64), invFreq); // (T, hd/2)
        var full = cat(new[] { angles, angles }, 1);                                // (T, hd)
        cos_cached = full.cos().to(ScalarType.Float32).MoveToOuterDisposeScope();
        sin_cached = full.sin().to(ScalarType.Float32).MoveToOuterDisposeScope();
        register_buffer(nameof(cos_cached), cos_cached, persistent: false);
        register_buffer(nameof(sin_cached), sin_cached, persistent: false);
    }

    /// <summary>The cosine and sine tables, (context, rotated dimensions), in fp32 (exports build the same rotation from them).</summary>
    public (Tensor Cos, Tensor Sin) Tables => (cos_cached, sin_cached);

    /// <summary>Rotates queries or keys of shape (B, H, T, head_dim) at positions 0 .. T - 1.</summary>
    public override Tensor forward(Tensor x) => Rotate(x, 0);

    /// <summary>Rotates queries or keys of shape (B, H, T, head_dim) at positions <paramref name="start"/> .. start + T - 1.</summary>
    public Tensor Rotate(Tensor x, long start)
    {
        cos_cached = FixedTables.OnDeviceOf(cos_cached, x);
        sin_cached = FixedTables.OnDeviceOf(sin_cached, x);
        if (FusedKernels.RopeApplies(x, cos_cached))
        {
            return FusedKernels.Rope(x, cos_cached, sin_cached, start);
        }

        var t = x.shape[2];
        var rotary = cos_cached.shape[1];
        if (rotary < x.shape[3])
        {
            // Partial RoPE: the first `rotary` dimensions of each head turn, the rest pass through.
            return cat(new[] { Rotate(x.narrow(3, 0, rotary), start), x.narrow(3, rotary, x.shape[3] - rotary) }, 3);
        }

        var half = x.shape[3] / 2;
        var cos = cos_cached.narrow(0, start, t).to(x.dtype);
        var sin = sin_cached.narrow(0, start, t).to(x.dtype);
        var x1 = x.narrow(3, 0, half);
        var x2 = x.narrow(3, half, half);
        var rotated = cat(new[] { -x2, x1 }, 3);
        return (x * cos).Plus(rotated * sin);
    }
}

/// <summary>
/// Fixed (non-trainable) tables follow their input's device on first use: TorchSharp's Module.to moves
/// registered buffers but not the fields that refer to them.
/// </summary>
internal static class FixedTables
{
    public static Tensor OnDeviceOf(Tensor table, Tensor x)
    {
        if (table.device_type == x.device_type && table.device_index == x.device_index)
        {
            return table;
        }

        var moved = table.to(x.device).DetachFromDisposeScope();
        table.Dispose();
        return moved;
    }
}

/// <summary>The positions of a batch of token ids (B, T), for a learned position table.</summary>
public static class PositionIds
{
    /// <summary>start .. start + T - 1 on the device of <paramref name="idx"/> (start: the model's <see cref="SlmModel.StartPosition"/>).</summary>
    public static Tensor Of(Tensor idx, long start = 0) => HeldScalars.Arange(start, start + idx.shape[1], 1, idx.device, ScalarType.Int64);
}
