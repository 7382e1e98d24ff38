using System;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// The first block's values during one forward pass of a value-residual stack (<see cref="AttentionConfig.ValueResidual"/>):
/// block 0 records them, every later block mixes them into its own (<c>v + λ·(v₁ − v)</c>). One per pass; the tensor
/// belongs to the caller's dispose scope.
/// </summary>
public sealed class ValueResidual
{
    /// <summary>Block 0's values, (batch, k/v heads, positions, head size), once it has run.</summary>
    public Tensor? First { get; private set; }

    /// <summary>Records block 0's values (once a pass).</summary>
    public void Record(Tensor values)
    {
        if (First is not null)
        {
            throw new InvalidOperationException("The first block's values were already recorded in this pass: use a new ValueResidual for each forward pass.");
        }

        First = values;
    }
}
