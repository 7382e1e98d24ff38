using System;

namespace SlmGen;

// The attribute DSL. Put [Model] and the layer attributes on a `partial class`; the SlmGen generator
// writes the TorchSharp module and its compile-time costs into the other part. Layer attributes are read
// in the order they are written: that order is the order of the layers in the forward pass.
// Every numeric setting left at its default (0 or -1) means "not given" and takes the documented default.

/// <summary>Declares a generated model: vocabulary, context length and model-wide defaults.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ModelAttribute : Attribute
{
    /// <summary>Vocabulary size (rows of the token embedding, columns of the LM head). Required.</summary>
    public int Vocab { get; set; }

    /// <summary>Context length in tokens: the window the model reads. Required.</summary>
    public int Context { get; set; }

    /// <summary>Default dropout probability for every layer that has dropout (0 = none).</summary>
    public double Dropout { get; set; }

    /// <summary>
    /// Dropout on the embedding output (token plus positions; for flatten models, the embedded window) (-1 = the
    /// model's <see cref="Dropout"/>; 0 = none, as nn.TransformerEncoder-based models have).
    /// </summary>
    public double EmbeddingDropout { get; set; } = -1;

    /// <summary>Weight initialisation (default <see cref="InitScheme.TorchDefault"/>).</summary>
    public InitScheme Init { get; set; }

    /// <summary>Round the vocabulary up to a multiple of this (0 = none): the embedding's rows and the head's outputs, with exact costs.</summary>
    public int PadVocabTo { get; set; }

    /// <summary>The tokenizer the model is trained with: chars, bytes, words, gpt2, cl100k or a BPE folder (checked against the vocabulary; slmgen's default).</summary>
    public string? Tokenizer { get; set; }
}

/// <summary>The token embedding table (<c>Vocab × Dim</c>). Required; <c>Dim</c> is the model width.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class TokenEmbeddingAttribute : Attribute
{
    /// <summary>Embedding width (d_model).</summary>
    public int Dim { get; set; }

    /// <summary>Rows of a hashed bigram table added to the token embedding (0 = none): position t looks up ((36313·x_t) XOR (27191·x_(t−1))) mod (rows − 1).</summary>
    public int BigramBuckets { get; set; }

    /// <summary>Width of a bigram row (0 = <see cref="Dim"/>); narrower rows are projected to <see cref="Dim"/>.</summary>
    public int BigramDim { get; set; }
}

/// <summary>Position information (default when absent: <see cref="PositionKind.None"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class PositionsAttribute : Attribute
{
    /// <summary>Declares the kind of positions.</summary>
    public PositionsAttribute(PositionKind kind) => Kind = kind;

    /// <summary>The kind of positions.</summary>
    public PositionKind Kind { get; }

    /// <summary>RoPE frequency base (default 10000).</summary>
    public double RopeBase { get; set; }

    /// <summary>Rows of a learned position table (default: the context length).</summary>
    public int Length { get; set; }
}

/// <summary>
/// Concatenates the embeddings of the last <c>Window</c> tokens into one vector (the linear and MLP
/// baselines): the model then makes one prediction per window.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ContextFlattenAttribute : Attribute
{
    /// <summary>How many of the latest positions to concatenate (default: the whole context).</summary>
    public int Window { get; set; }
}

/// <summary>A dense layer: Linear, activation, dropout. Repeat the attribute for a stack.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute : Attribute
{
    /// <summary>Declares a dense layer of <paramref name="units"/> outputs.</summary>
    public DenseAttribute(int units) => Units = units;

    /// <summary>Output width.</summary>
    public int Units { get; }

    /// <summary>Activation (default <see cref="Act.Relu"/>).</summary>
    public Act Activation { get; set; } = Act.Relu;

    /// <summary>Whether the layer has a bias (default true).</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Dropout after the activation (-1 = the model's default).</summary>
    public double Dropout { get; set; } = -1;
}

/// <summary>
/// A stack of transformer blocks: causal multi-head self-attention and a feed-forward network, each with
/// a residual connection and a norm (pre- or post-). Attention runs through scaled_dot_product_attention.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TransformerBlocksAttribute : Attribute
{
    /// <summary>Number of distinct blocks (each with its own weights). Required.</summary>
    public int Layers { get; set; }

    /// <summary>How many times the whole stack is applied, reusing the same weights (default 1: no sharing).</summary>
    public int Repeat { get; set; }

    /// <summary>Attention heads. Required; must divide the model width.</summary>
    public int Heads { get; set; }

    /// <summary>Key/value heads: grouped-query attention (1 = multi-query); must divide <see cref="Heads"/>. 0 = <see cref="Heads"/>.</summary>
    public int KvHeads { get; set; }

    /// <summary>Heads of the last block: the heads grow (or shrink) linearly from <see cref="Heads"/> across the stack (layer-wise scaling, as OpenELM). 0 = uniform.</summary>
    public int HeadsLast { get; set; }

    /// <summary>Heads block by block (one value per block), instead of <see cref="Heads"/>.</summary>
    public int[]? HeadsPerBlock { get; set; }

    /// <summary>Key/value heads of the last block, interpolated from <see cref="KvHeads"/>. 0 = uniform.</summary>
    public int KvHeadsLast { get; set; }

    /// <summary>Key/value heads block by block.</summary>
    public int[]? KvHeadsPerBlock { get; set; }

    /// <summary>FFN width of the last block, interpolated from <see cref="FfnHidden"/>. 0 = uniform.</summary>
    public int FfnHiddenLast { get; set; }

    /// <summary>FFN width block by block.</summary>
    public int[]? FfnHiddenPerBlock { get; set; }

    /// <summary>FFN multiplier of the last block, interpolated from <see cref="FfnMultiplier"/> (widths rounded). 0 = uniform.</summary>
    public double FfnMultiplierLast { get; set; }

    /// <summary>FFN multiplier block by block (widths rounded).</summary>
    public double[]? FfnMultiplierPerBlock { get; set; }

    /// <summary>Applications of each block right after the other, with shared weights (block-wise sharing, as MobileLLM). 0 or 1 = once.</summary>
    public int BlockRepeat { get; set; }

    /// <summary>Rank of a LoRA adapter for every application of a shared block, on each of its linear layers (relaxed recursive transformers). 0 = none; needs <see cref="Repeat"/> or <see cref="BlockRepeat"/> above 1.</summary>
    public int LoraRank { get; set; }

    /// <summary>Size of one attention head. 0 = the width / <see cref="Heads"/>; set it to decouple the attention's inner width (heads × head size) from the model width.</summary>
    public int HeadDim { get; set; }

    /// <summary>FFN hidden width (give this or <see cref="FfnMultiplier"/>; default 4 × width).</summary>
    public int FfnHidden { get; set; }

    /// <summary>FFN hidden width as a multiple of the model width.</summary>
    public double FfnMultiplier { get; set; }

    /// <summary>FFN activation (default <see cref="Act.Gelu"/>).</summary>
    public Act Activation { get; set; } = Act.Gelu;

    /// <summary>Norm (default <see cref="NormKind.LayerNorm"/>).</summary>
    public NormKind Norm { get; set; } = NormKind.LayerNorm;

    /// <summary>Whether LayerNorms have a bias (default true).</summary>
    public bool NormBias { get; set; } = true;

    /// <summary>Pre-norm (x + f(norm(x)), default) or post-norm (norm(x + f(x))).</summary>
    public bool PreNorm { get; set; } = true;

    /// <summary>RMSNorm of each query and key head (learned scale of one head's size, shared by the heads) before attention and RoPE, as OLMo 2 and Qwen3 (default false).</summary>
    public bool QkNorm { get; set; }

    /// <summary>Whether QK-norm has a learned scale (default true; false: parameter-free, as the modded-nanogpt speedrun). Needs <see cref="QkNorm"/>.</summary>
    public bool QkNormWeight { get; set; } = true;

    /// <summary>A learned gain per query head, initialised to this value and multiplied into the queries after QK-norm and RoPE (0 = none).</summary>
    public double QueryGain { get; set; }

    /// <summary>Partial RoPE: rotate the first this many dimensions of each head (even, at most the head size; 0 = the whole head).</summary>
    public int RopeDims { get; set; }

    /// <summary>Learned per-channel scales on the attention and FFN branches (attn_scale, mlp_scale, initialised to one).</summary>
    public bool BranchScales { get; set; }

    /// <summary>Each block first mixes its input with the stack's input x₀: resid_mix[0] ⊙ x + resid_mix[1] ⊙ x₀ (initialised to ones and zeros).</summary>
    public bool ResidualMix { get; set; }

    /// <summary>Attention and FFN on the same input, both added to it (GPT-J, PaLM; pre-norm only).</summary>
    public bool Parallel { get; set; }

    /// <summary>Value residual: every block after the first mixes the first block's values into its own, <c>v ← v + λ·(v₁ − v)</c>, one learned λ a block (initialised to 0.5).</summary>
    public bool ValueResidual { get; set; }

    /// <summary>The two norms' outputs of block i are multiplied by 1/√(i+1) (pre-norm only).</summary>
    public bool DepthScaledNorms { get; set; }

    /// <summary>U-Net skips: the outputs of the first ⌊Layers/2⌋ blocks are added, last in first out, to the inputs of the blocks after them through learned per-channel weights.</summary>
    public bool UNetSkips { get; set; }

    /// <summary>One packed q/k/v projection (default, as nn.MultiheadAttention) or three separate ones.</summary>
    public bool PackedQkv { get; set; } = true;

    /// <summary>Bias in the attention projections (default true).</summary>
    public bool AttentionBias { get; set; } = true;

    /// <summary>Bias in the FFN layers (default true).</summary>
    public bool FfnBias { get; set; } = true;

    /// <summary>Dropout on attention probabilities and residual branches (-1 = the model's default).</summary>
    public double Dropout { get; set; } = -1;

    /// <summary>
    /// Dropout inside the FFN, after its activation (0 = none, as in nanoGPT; nn.TransformerEncoderLayer uses its
    /// dropout here too).
    /// </summary>
    public double FfnDropout { get; set; }
}

/// <summary>A norm after the last layer, before the LM head.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class FinalNormAttribute : Attribute
{
    /// <summary>Declares the final norm.</summary>
    public FinalNormAttribute(NormKind kind) => Kind = kind;

    /// <summary>The norm.</summary>
    public NormKind Kind { get; }

    /// <summary>Whether a LayerNorm has a bias (default true).</summary>
    public bool Bias { get; set; } = true;
}

/// <summary>The LM head (default when absent: own weights, no bias).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class LMHeadAttribute : Attribute
{
    /// <summary>Reuse the token embedding as the output matrix (no parameters of its own).</summary>
    public bool TiedToEmbedding { get; set; }

    /// <summary>Whether the head has a bias (own weights only).</summary>
    public bool Bias { get; set; }

    /// <summary>Factorise the head through a bottleneck of this width (0 = a full matrix).</summary>
    public int Rank { get; set; }

    /// <summary>A grouped (two-level) head of this many groups of consecutive ids (0 = one softmax over the vocabulary): width × (groups + group size) weights.</summary>
    public int Groups { get; set; }

    /// <summary>
    /// A grouped head whose within-group softmax is conditioned on the group (needs <see cref="Groups"/>):
    /// p(position | g, h) = softmax(W_pos (h ⊙ (1 + e_g))), a learned gate per group (groups × width parameters).
    /// </summary>
    public bool Conditioned { get; set; }

    /// <summary>Logit soft-capping (Gemma 2): scores become SoftCap · tanh(scores / SoftCap); 0 = none. Not with <see cref="Groups"/>.</summary>
    public double SoftCap { get; set; }
}

/// <summary>
/// Cost budgets for one model. A model over budget gets warning SLM0100 at its declaration. Unset
/// budgets fall back to the project's MSBuild properties (SlmGenMaxParameters, ...).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class BudgetAttribute : Attribute
{
    /// <summary>Largest parameter count (tied weights counted once).</summary>
    public long MaxParameters { get; set; }

    /// <summary>Largest forward FLOPs per token (at a full context).</summary>
    public long MaxForwardFlopsPerToken { get; set; }

    /// <summary>Largest training FLOPs for <see cref="TrainingTokens"/> tokens.</summary>
    public double MaxTrainingFlops { get; set; }

    /// <summary>The planned training length in tokens (predictions, for flatten models).</summary>
    public long TrainingTokens { get; set; }

    /// <summary>Characters of training text (instead of <see cref="TrainingTokens"/>): tokens = characters / <see cref="CharactersPerToken"/>.</summary>
    public long TrainingCharacters { get; set; }

    /// <summary>The tokenizer's measured characters per token (1 for a character tokenizer): also gives the cost report's per-character figures.</summary>
    public double CharactersPerToken { get; set; }

    /// <summary>Largest weight size in bytes (fp32).</summary>
    public long MaxWeightBytes { get; set; }

    /// <summary>Largest KV cache for a full context, in bytes (bf16).</summary>
    public long MaxKvCacheBytes { get; set; }

    /// <summary>Largest artifact file (uncompressed, before its tokenizer), in bytes, at the precision plan.</summary>
    public long MaxArtifactBytes { get; set; }

    /// <summary>Longest training run on the project's device profile (<c>SlmGenDeviceProfile</c>): a duration such as "90s", "45m", "2h", "1.5d".</summary>
    public string MaxTrainingTime { get; set; } = "";

    /// <summary>Longest time to decode one token at batch 1 after a full context, on the project's device profile: "800us", "5ms", "0.2s".</summary>
    public string MaxDecodeLatency { get; set; } = "";
}

/// <summary>
/// The precision plan of the shipped artifact (docs/artifact.md): the weights of the chosen parts quantised to 8, 6, 5,
/// 4, 3 or 2 bits — trained quantisation-aware (<see cref="Method"/> = <see cref="Quantizer.Qat"/>, the default: fake-quantised
/// in the forward pass, straight-through gradients) or quantised after training — with one scale per row or per
/// <see cref="Group"/> columns; the cost model reports the weight bytes and the artifact's bytes at that plan exactly,
/// and <c>MaxWeightBytes</c> and <c>MaxArtifactBytes</c> apply to them. 0 = full precision.
/// </summary>
public sealed class QuantizationAttribute : Attribute
{
    /// <summary>Bits of the attention projections' weights.</summary>
    public int Attention { get; set; }

    /// <summary>Bits of the transformer FFN weights.</summary>
    public int Mlp { get; set; }

    /// <summary>Bits of the dense layers' weights.</summary>
    public int Dense { get; set; }

    /// <summary>Bits of the LM head's own weights (a tied head uses the embedding's).</summary>
    public int Head { get; set; }

    /// <summary>Bits of the token embedding table.</summary>
    public int Embedding { get; set; }

    /// <summary>Columns that share a scale (0 = one scale per row).</summary>
    public int Group { get; set; }

    /// <summary>Storage type of the scales.</summary>
    public StoreType Scales { get; set; } = StoreType.Fp16;

    /// <summary>Storage type of every tensor not quantised (<see cref="StoreType.Auto"/>: bf16 when quantising, else fp32).</summary>
    public StoreType Others { get; set; } = StoreType.Auto;

    /// <summary>How the codes are found: quantisation-aware training, or after training.</summary>
    public Quantizer Method { get; set; }

    /// <summary>Lossless compression of the artifact file.</summary>
    public ArtifactCompression Compression { get; set; }

    /// <summary>The levels of the quantised weights: symmetric with zero (the default) or stretched (all 2^bits codes, no zero; ParetoQ's SEQ grid).</summary>
    public QuantGrid Grid { get; set; }
}
