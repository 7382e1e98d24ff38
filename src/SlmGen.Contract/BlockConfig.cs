// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README). The generator's planner
// resolves a stack into these records and prints them into the generated constructor; the runtime's layers are
// built from them. Adding a setting to a layer means adding it here, once.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;

#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>One transformer block, resolved: everything its layers are built from.</summary>
/// <param name="Width">Width of the residual stream: the block's input and output.</param>
/// <param name="Attention">The attention layer.</param>
/// <param name="FeedForward">The feed-forward network.</param>
/// <param name="Norm">The block's two norms and where they sit.</param>
/// <param name="Sharing">How often the block runs per forward pass and whether each application has its own adapters.</param>
/// <param name="ResidualDropout">Dropout on both residual branches (training only).</param>
public sealed record BlockConfig(long Width, AttentionConfig Attention, FeedForwardConfig FeedForward, NormConfig Norm, SharingConfig Sharing, double ResidualDropout)
{
    /// <summary>The block's shape: heads, key/value heads, head size and FFN width.</summary>
    public BlockShape Shape => new(Attention.Heads, Attention.KvHeads, Attention.HeadDim, FeedForward.Hidden);

    /// <summary>A block config with nothing set: the spec carries the block's own options on it (see <see cref="AttentionConfig.Blank"/>).</summary>
    public static readonly BlockConfig Blank = new(0, AttentionConfig.Blank, FeedForwardConfig.Blank, new NormConfig(NormKind.None, false, true), new SharingConfig(1, 1, 0), 0);

    /// <summary>
    /// Learned per-channel scales on the two residual branches (<c>attn_scale</c>, <c>mlp_scale</c>: width each,
    /// initialised to one): <c>x + attn_scale ⊙ attn(…)</c>, <c>x + mlp_scale ⊙ mlp(…)</c>.
    /// </summary>
    public bool BranchScales { get; init; }

    /// <summary>
    /// Residual mixing with the stack's input x₀ (the embedding output for the first stack): before its sub-layers,
    /// the block takes <c>resid_mix[0] ⊙ x + resid_mix[1] ⊙ x₀</c> (2 × width, initialised to ones and zeros).
    /// </summary>
    public bool ResidualMix { get; init; }

    /// <summary>
    /// Attention and FFN side by side on the same input (GPT-J, PaLM): <c>x + attn(ln_1(x)) + mlp(ln_2(x))</c>
    /// instead of one after the other (pre-norm only).
    /// </summary>
    public bool Parallel { get; init; }

    /// <summary>
    /// The outputs of the block's two norms are multiplied by <c>1 / √(Depth + 1)</c> (pre-norm only), so deeper blocks
    /// write smaller updates into the residual stream (the parameter-golf records' <c>ln_scale</c>).
    /// </summary>
    public bool DepthScaledNorms { get; init; }

    /// <summary>The block's index in its stack (set by <see cref="StackStep.BlockAt"/> where <see cref="DepthScaledNorms"/> or <see cref="AttentionConfig.ValueResidual"/> needs it; 0 otherwise).</summary>
    public int Depth { get; init; }

    /// <summary>What the norms' outputs are multiplied by: <c>1 / √(Depth + 1)</c> with <see cref="DepthScaledNorms"/>, else 1.</summary>
    public double NormOutputScale => DepthScaledNorms ? 1.0 / Math.Sqrt(Depth + 1.0) : 1.0;

    /// <summary>True for a block that mixes the first block's values into its own (value residual, depth 1 and on): it has a λ.</summary>
    public bool MixesValues => Attention.ValueResidual && Depth > 0;

    /// <summary>
    /// The settings added to the block's records after the first plan version, where they are not at their default
    /// (init-only properties, camelCase names): how the fingerprint, the twin's JSON and the exports see a lever
    /// added since without each being taught every one (a model without such a setting keeps its fingerprint).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, object>> Extensions()
    {
        var found = new List<KeyValuePair<string, object>>();
        foreach (var record in new object[] { this, Attention, FeedForward, Norm, Sharing })
        {
            foreach (var property in InitOnly(record.GetType()))
            {
                var value = property.GetValue(record);
                var unset = value is null || (value.GetType().IsValueType && value.Equals(Activator.CreateInstance(value.GetType())));
                if (!unset)
                {
                    found.Add(new KeyValuePair<string, object>(char.ToLowerInvariant(property.Name[0]) + property.Name.Substring(1), value!));
                }
            }
        }

        return found;
    }

    private static readonly Dictionary<Type, PropertyInfo[]> InitOnlyProperties = new();

    /// <summary>A record's settable properties that are not parameters of its primary constructor (read once per type).</summary>
    private static PropertyInfo[] InitOnly(Type type)
    {
        lock (InitOnlyProperties)
        {
            if (!InitOnlyProperties.TryGetValue(type, out var properties))
            {
                var positional = new HashSet<string>(type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First().GetParameters().Select(p => p.Name!));
                properties = type.GetProperties().Where(p => p.SetMethod is { IsPublic: true } && p.DeclaringType == type && !positional.Contains(p.Name)).ToArray();
                InitOnlyProperties[type] = properties;
            }

            return properties;
        }
    }

    /// <summary>This block with another shape (a stack whose blocks differ in shape: layer-wise allocation).</summary>
    public BlockConfig WithShape(BlockShape shape) => shape == Shape ? this : this with
    {
        Attention = Attention with { Heads = shape.Heads, KvHeads = shape.KvHeads, HeadDim = shape.HeadDim },
        FeedForward = FeedForward with { Hidden = shape.FfnHidden },
    };
}

/// <summary>Causal self-attention.</summary>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads (a divisor of <paramref name="Heads"/>; fewer = grouped-query attention, one = multi-query).</param>
/// <param name="HeadDim">Size of one head.</param>
/// <param name="PackedQkv">One projection for q, k and v (as nn.MultiheadAttention's in_proj), or three.</param>
/// <param name="Bias">Biases on the projections.</param>
/// <param name="Dropout">Dropout on the attention probabilities (training only).</param>
/// <param name="Context">The longest sequence (RoPE tables).</param>
/// <param name="Rope">Rotary positions on q and k, or null.</param>
/// <param name="WeightBits">Quantisation-aware training of the projections' weights at 2–8 bits (0 = full precision).</param>
public sealed record AttentionConfig(int Heads, int KvHeads, long HeadDim, bool PackedQkv, bool Bias, double Dropout, int Context, RopeConfig? Rope, int WeightBits)
{
    /// <summary>RMSNorm of each query and key head (a learned scale of <see cref="HeadDim"/> each for q and k) before RoPE and the scores.</summary>
    public bool QkNorm { get; init; }

    /// <summary>QK-norm without learned scales (parameter-free RMSNorm of each query and key head); needs <see cref="QkNorm"/>.</summary>
    public bool QkNormFree { get; init; }

    /// <summary>
    /// A learned gain per query head (<c>q_gain</c>, one per head), initialised to this value and multiplied into the
    /// queries after QK-norm and RoPE; 0 = none.
    /// </summary>
    public double QueryGain { get; init; }

    /// <summary>Rotary dimensions of each head (partial RoPE: the first <c>RopeDims</c> are rotated, the rest pass through); 0 = the whole head.</summary>
    public long RopeDims { get; init; }

    /// <summary>
    /// Value residual (ResFormer; the modded-nanogpt speedrun): every block of the stack after the first mixes the first
    /// block's values into its own, <c>v ← v + λ·(v₁ − v)</c>, per position and k/v channel, before the KV cache and the
    /// repeat for grouped heads; λ is one learned scalar a block (<c>attn.value_lambda</c>, initialised to 0.5), and the
    /// first block (depth 0) has none: its values are v₁.
    /// </summary>
    public bool ValueResidual { get; init; }

    /// <summary>The dimensions of each head that RoPE rotates.</summary>
    public long RotaryDims => RopeDims > 0 ? RopeDims : HeadDim;

    /// <summary>
    /// An attention config with nothing set: the spec carries its options (init-only settings such as
    /// <see cref="QkNorm"/>) on it, and the planner fills in the rest with <c>with</c>, so that an option added here
    /// travels from the binding to the layer without the spec or the planner being taught it.
    /// </summary>
    public static readonly AttentionConfig Blank = new(0, 0, 0, false, false, 0, 0, null, 0);

    /// <summary>Width of q and of the attention output: heads × head size.</summary>
    public long InnerWidth => Heads * HeadDim;

    /// <summary>Width of k and of v: key/value heads × head size.</summary>
    public long KvWidth => KvHeads * HeadDim;
}

/// <summary>Rotary position embeddings (rotate-half) on queries and keys.</summary>
/// <param name="Base">The frequency base θ.</param>
public sealed record RopeConfig(double Base);

/// <summary>The position-wise feed-forward network.</summary>
/// <param name="Hidden">Width of the hidden layer.</param>
/// <param name="Activation">Its activation (SwiGLU adds a gate matrix).</param>
/// <param name="Bias">Biases on its matrices.</param>
/// <param name="Dropout">Dropout after the activation, inside the FFN (training only).</param>
/// <param name="WeightBits">Quantisation-aware training of its weights at 2–8 bits (0 = full precision).</param>
public sealed record FeedForwardConfig(long Hidden, Act Activation, bool Bias, double Dropout, int WeightBits)
{
    /// <summary>A feed-forward config with nothing set, to carry options from the spec to the planner (see <see cref="AttentionConfig.Blank"/>).</summary>
    public static readonly FeedForwardConfig Blank = new(0, Act.Relu, false, 0, 0);
}

/// <summary>The norms of a block.</summary>
/// <param name="Kind">LayerNorm, RMSNorm or none.</param>
/// <param name="Bias">A LayerNorm bias.</param>
/// <param name="PreNorm">Before each sub-layer (GPT-2) rather than after the residual sum (the original Transformer).</param>
public sealed record NormConfig(NormKind Kind, bool Bias, bool PreNorm);

/// <summary>How a block is shared across one forward pass.</summary>
/// <param name="Repeat">Passes over the whole stack with the same weights.</param>
/// <param name="BlockRepeat">Applications of each block in a row with the same weights.</param>
/// <param name="LoraRank">Rank of the LoRA adapters each application has of its own (0 = none).</param>
public sealed record SharingConfig(int Repeat, int BlockRepeat, int LoraRank)
{
    /// <summary>Applications of the block per forward pass: whole-stack passes × immediate repeats.</summary>
    public long ApplicationsPerBlock => (long)Repeat * BlockRepeat;

    /// <summary>Adapter sets the block has: one per application when it has adapters, else none.</summary>
    public int LoraSets => LoraRank > 0 ? (int)ApplicationsPerBlock : 0;
}

/// <summary>The shape of one block: what may differ between the blocks of a stack.</summary>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads.</param>
/// <param name="HeadDim">Size of one head.</param>
/// <param name="FfnHidden">FFN width.</param>
public sealed record BlockShape(int Heads, int KvHeads, long HeadDim, long FfnHidden);

/// <summary>Tables of block shapes.</summary>
public static class BlockShapes
{
    /// <summary>The shapes of blocks 0 .. n - 1 from four columns of n entries (how long generated stacks declare theirs).</summary>
    public static EquatableArray<BlockShape> Table(int[] heads, int[] kvHeads, long[] headDim, long[] ffnHidden)
    {
        var shapes = new BlockShape[heads.Length];
        for (var i = 0; i < shapes.Length; i++)
        {
            shapes[i] = new BlockShape(heads[i], kvHeads[i], headDim[i], ffnHidden[i]);
        }

        return new EquatableArray<BlockShape>(shapes);
    }
}
