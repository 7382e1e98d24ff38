using System.Collections.Generic;
using System.Linq;

namespace SlmGen.Generator.Model;

/// <summary>The value type of a setting.</summary>
internal enum SettingType
{
    Whole,
    Number,
    Flag,
    Name,
    Section,
}

/// <summary>
/// One setting of the spec language: its YAML key, its attribute property, its default and its range. The
/// YAML reader's allowed keys, the attribute reader's fallbacks and the schema table in docs/yaml-schema.md
/// all come from <see cref="SettingsTable"/>; a test checks that the runtime attributes' initialisers equal
/// <see cref="AttributeDefault"/>.
/// </summary>
/// <param name="Section">Where the key lives in YAML: <c>model</c> (the root), <c>embedding</c>, <c>positions</c>, <c>flatten</c>, <c>dense</c>, <c>transformer</c>, <c>final_norm</c>, <c>head</c>, <c>budget</c>.</param>
/// <param name="Key">The YAML key (also the last part of the spec's setting key).</param>
/// <param name="Attribute">The attribute that carries it (without the Attribute suffix), or null for YAML-only keys.</param>
/// <param name="Property">The attribute property, or null.</param>
/// <param name="AttributeDefault">The value the attribute holds when the property is not written (0, -1 = "inherit", false, ...).</param>
/// <param name="Default">The default in words (docs).</param>
/// <param name="Allowed">The allowed values in words (docs and messages).</param>
/// <param name="Meaning">What it does (docs).</param>
internal sealed record Setting(
    string Section,
    string Key,
    SettingType Type,
    string? Attribute,
    string? Property,
    object? AttributeDefault,
    string Default,
    string Allowed,
    string Meaning)
{
    /// <summary>The last part of the spec's setting key (where diagnostics point): the YAML key, or for a per-block list <c>heads_list</c> and the like.</summary>
    public string SpecKey { get; init; } = Key;

    /// <summary>True for a per-block list (an array property; in YAML a list under the scalar's key).</summary>
    public bool IsList => Attribute is not null && AttributeDefault is null;
}

/// <summary>Every setting, in the order the docs list them. The one place defaults are written down.</summary>
internal static class SettingsTable
{
    public const string Root = "model";
    public const string EmbeddingSection = "embedding";
    public const string PositionsSection = "positions";
    public const string FlattenSection = "flatten";
    public const string DenseSection = "dense";
    public const string TransformerSection = "transformer";
    public const string FinalNormSection = "final_norm";
    public const string HeadSection = "head";
    public const string BudgetSection = "budget";
    public const string QuantizationSection = "quantization";

    /// <summary>Largest size accepted for any one dimension (vocabulary, width, context, units).</summary>
    public const int MaxDimension = 1 << 24;

    /// <summary>Largest number of blocks in one stack, and of applications of a shared stack.</summary>
    public const int MaxBlocks = 100_000;

    /// <summary>Attribute values that mean "take the model's value" (dropout settings).</summary>
    public const double Inherit = -1;

    // Model (root).
    public static readonly Setting Name = new(Root, "name", SettingType.Name, null, null, null, "the file name in PascalCase", "a C# identifier", "class name");
    public static readonly Setting Namespace = new(Root, "namespace", SettingType.Name, null, null, null, "`RootNamespace`", "dotted C# identifiers", "namespace");
    public static readonly Setting Vocab = new(Root, "vocab", SettingType.Whole, "Model", "Vocab", 0, "required", "2 … 16,777,216", "vocabulary size");
    public static readonly Setting Context = new(Root, "context", SettingType.Whole, "Model", "Context", 0, "required", "1 … 16,777,216", "tokens per window");
    public static readonly Setting Dropout = new(Root, "dropout", SettingType.Number, "Model", "Dropout", 0.0, "0", "[0, 1)", "default dropout of every layer");
    public static readonly Setting EmbeddingDropout = new(Root, "embedding_dropout", SettingType.Number, "Model", "EmbeddingDropout", Inherit, "`dropout`", "[0, 1)", "dropout on the embedding output (token + positions)");
    public static readonly Setting Init = new(Root, "init", SettingType.Name, "Model", "Init", 0, "`torch`", "`torch` \\| `gpt2`", "PyTorch's default initialisation, or GPT-2's (N(0, 0.02), scaled residual projections)");
    public static readonly Setting PadVocabTo = new(Root, "pad_vocab_to", SettingType.Whole, "Model", "PadVocabTo", 0, "0 (none)", "0 … 65,536", "round the vocabulary up to a multiple of this: the embedding's rows and the head's outputs, with exact costs; the tokenizer never produces the extra ids");
    public static readonly Setting Tokenizer = new(Root, "tokenizer", SettingType.Name, "Model", "Tokenizer", null, "none", "`chars` \\| `bytes` \\| `words` \\| `gpt2` \\| `cl100k` \\| a BPE folder", "the tokenizer the model is trained with: checked against the vocabulary, recorded in the cost report, slmgen's default `--tokenizer`");
    public static readonly Setting Embedding = new(Root, "embedding", SettingType.Section, "TokenEmbedding", null, null, "required", "a number, or `{ dim, bigram_buckets, bigram_dim }`", "token embedding width (d_model)");
    public static readonly Setting Positions = new(Root, "positions", SettingType.Section, "Positions", null, null, "`none`", "a kind, or `{ kind, length, base }`", "position information");
    public static readonly Setting Layers = new(Root, "layers", SettingType.Section, null, null, null, "none", "a list of layers", "the layers in forward order");
    public static readonly Setting FinalNorm = new(Root, "final_norm", SettingType.Section, "FinalNorm", null, null, "`none`", "a norm kind, or `{ kind, bias }`", "norm before the head");
    public static readonly Setting Head = new(Root, "head", SettingType.Section, "LMHead", null, null, "untied, no bias", "`untied` \\| `tied` \\| `bias`, or `{ tied, bias, rank }`", "the LM head");
    public static readonly Setting Budget = new(Root, "budget", SettingType.Section, "Budget", null, null, "none", "a mapping", "budgets");
    public static readonly Setting Quantization = new(Root, "quantization", SettingType.Section, "Quantization", null, null, "none", "bits (attention, FFN and dense layers), or `{ attention, mlp, dense, head, embedding, group, scales, others, method, grid, compression }`", "the precision plan of the shipped artifact: weights quantised to 8, 6, 5, 4, 3 or 2 bits, trained quantisation-aware (`method: qat`) or quantised after training");

    // Quantisation.
    public static readonly Setting QuantAttention = new(QuantizationSection, "attention", SettingType.Whole, "Quantization", "Attention", 0, "0 (full precision)", "0, 2, 3, 4, 5, 6, 8", "bits of the attention projections");
    public static readonly Setting QuantMlp = new(QuantizationSection, "mlp", SettingType.Whole, "Quantization", "Mlp", 0, "0", "0, 2, 3, 4, 5, 6, 8", "bits of the transformer FFN matrices");
    public static readonly Setting QuantDense = new(QuantizationSection, "dense", SettingType.Whole, "Quantization", "Dense", 0, "0", "0, 2, 3, 4, 5, 6, 8", "bits of the dense layers");
    public static readonly Setting QuantHead = new(QuantizationSection, "head", SettingType.Whole, "Quantization", "Head", 0, "0 (tied: the embedding's)", "0, 2, 3, 4, 5, 6, 8", "bits of the LM head's own matrices");
    public static readonly Setting QuantEmbedding = new(QuantizationSection, "embedding", SettingType.Whole, "Quantization", "Embedding", 0, "0", "0, 2, 3, 4, 5, 6, 8", "bits of the token embedding table");
    public static readonly Setting QuantGroup = new(QuantizationSection, "group", SettingType.Whole, "Quantization", "Group", 0, "0 (a scale per row)", "0 … 16,777,216", "columns that share a scale (the last group of a row may be shorter); 0 = one scale per row (output channel)");
    public static readonly Setting QuantScales = new(QuantizationSection, "scales", SettingType.Name, "Quantization", "Scales", 1, "`fp16`", "`fp16` \\| `bf16` \\| `fp32`", "storage type of the scales");
    public static readonly Setting QuantOthers = new(QuantizationSection, "others", SettingType.Name, "Quantization", "Others", 3, "`bf16` when quantising, else `fp32`", "`fp32` \\| `fp16` \\| `bf16`", "storage type of every tensor not quantised (norms, biases, gains, positions, LoRA, bigram tables, parts at 0 bits)");
    public static readonly Setting QuantMethod = new(QuantizationSection, "method", SettingType.Name, "Quantization", "Method", 0, "`qat`", "`qat` \\| `absmax` \\| `mse` \\| `gptq` \\| `gptq-mse` \\| `learned` \\| `gptq-learned`", "how the codes are found: quantisation-aware training from `train.qat_start` on, or after training by round-to-nearest with absmax scales, with MSE-searched clipping, GPTQ over a calibration sample (on absmax scales, `gptq-mse`: on MSE-searched ones, `gptq-learned`: on learned ones), or `learned`: round-to-nearest on scales learned by gradient descent on each layer's output error over a calibration sample");
    public static readonly Setting QuantGrid = new(QuantizationSection, "grid", SettingType.Name, "Quantization", "Grid", 0, "`symmetric`", "`symmetric` \\| `stretched`", "the levels of every quantised part: `symmetric` q·s with a zero level (2 bits: −s, 0, s), or `stretched` (q + ½)·s using all 2^bits codes, no zero (ParetoQ's SEQ grid; 2 bits: ±½s, ±1½s); same bytes either way");
    public static readonly Setting QuantCompression = new(QuantizationSection, "compression", SettingType.Name, "Quantization", "Compression", 0, "`none`", "`none` \\| `zstd` \\| `lzma` \\| `brotli` \\| `deflate`", "lossless compression of the whole artifact file");

    // Embedding.
    public static readonly Setting Dim = new(EmbeddingSection, "dim", SettingType.Whole, "TokenEmbedding", "Dim", 0, "required", "1 … 16,777,216", "embedding width (d_model)");
    public static readonly Setting BigramBuckets = new(EmbeddingSection, "bigram_buckets", SettingType.Whole, "TokenEmbedding", "BigramBuckets", 0, "0 (none)", "0, or 2 … 16,777,216", "hashed bigram embeddings added to the token embedding: rows of the hash table (position t: bucket ((36313·x_t) XOR (27191·x_(t−1))) mod (buckets − 1); a window's first position: buckets − 1)");
    public static readonly Setting BigramDim = new(EmbeddingSection, "bigram_dim", SettingType.Whole, "TokenEmbedding", "BigramDim", 0, "the embedding width", "1 … 16,777,216; needs `bigram_buckets`", "width of a bigram row; below the embedding width, a bias-free projection to it is added");

    // Positions.
    public static readonly Setting PositionKind = new(PositionsSection, "kind", SettingType.Name, "Positions", "Kind", 0, "`none`", "`learned` \\| `sinusoidal` \\| `rope` \\| `none`", "how positions enter the model");
    public static readonly Setting PositionLength = new(PositionsSection, "length", SettingType.Whole, "Positions", "Length", 0, "the context", "≥ context", "rows of a learned position table");
    public static readonly Setting RopeBase = new(PositionsSection, "base", SettingType.Number, "Positions", "RopeBase", 0.0, "10000", "> 1", "RoPE frequency base");

    // Flatten.
    public static readonly Setting Window = new(FlattenSection, "window", SettingType.Whole, "ContextFlatten", "Window", 0, "the context", "1 … context", "positions concatenated (the last ones)");

    // Dense.
    public static readonly Setting Units = new(DenseSection, "units", SettingType.Whole, "Dense", "Units", 0, "required", "1 … 16,777,216", "output width");
    public static readonly Setting DenseActivation = new(DenseSection, "activation", SettingType.Name, "Dense", "Activation", 0, "`relu`", "`relu` \\| `gelu` \\| `silu` \\| `relu2` \\| `leaky_relu2` \\| `tanh` \\| `identity`", "activation after the matrix");
    public static readonly Setting DenseBias = new(DenseSection, "bias", SettingType.Flag, "Dense", "Bias", true, "true", "true \\| false", "bias vector");
    public static readonly Setting DenseDropout = new(DenseSection, "dropout", SettingType.Number, "Dense", "Dropout", Inherit, "the model's `dropout`", "[0, 1)", "dropout after the activation");

    // Transformer blocks.
    public static readonly Setting BlockCount = new(TransformerSection, "layers", SettingType.Whole, "TransformerBlocks", "Layers", 0, "required", "1 … 100,000", "distinct blocks in the stack");
    public static readonly Setting Repeat = new(TransformerSection, "repeat", SettingType.Whole, "TransformerBlocks", "Repeat", 0, "1", "1 … 100,000", "applications of the whole stack with shared weights");
    public static readonly Setting Heads = new(TransformerSection, "heads", SettingType.Whole, "TransformerBlocks", "Heads", 0, "required", "a divisor of the width", "attention heads");
    public static readonly Setting KvHeads = new(TransformerSection, "kv_heads", SettingType.Whole, "TransformerBlocks", "KvHeads", 0, "`heads`", "a divisor of `heads` (1 = multi-query)", "key/value heads: grouped-query attention");
    public static readonly Setting HeadDim = new(TransformerSection, "head_dim", SettingType.Whole, "TransformerBlocks", "HeadDim", 0, "width / heads", "1 … 65,536", "size of one head; the attention's inner width is heads × head_dim");
    public static readonly Setting HeadsLast = new(TransformerSection, "heads_last", SettingType.Whole, "TransformerBlocks", "HeadsLast", 0, "none (uniform)", "≥ 1", "heads of the last block: linear from `heads` across the stack (layer-wise scaling)");
    public static readonly Setting KvHeadsLast = new(TransformerSection, "kv_heads_last", SettingType.Whole, "TransformerBlocks", "KvHeadsLast", 0, "none (uniform)", "≥ 1", "key/value heads of the last block, interpolated likewise");
    public static readonly Setting HeadsPerBlock = new(TransformerSection, "heads", SettingType.Whole, "TransformerBlocks", "HeadsPerBlock", null, "none", "one whole number per block (YAML: a list for `heads`)", "heads, block by block") { SpecKey = "heads_list" };
    public static readonly Setting KvHeadsPerBlock = new(TransformerSection, "kv_heads", SettingType.Whole, "TransformerBlocks", "KvHeadsPerBlock", null, "none", "one per block (YAML: a list for `kv_heads`)", "key/value heads, block by block") { SpecKey = "kv_heads_list" };
    public static readonly Setting Ffn = new(TransformerSection, "ffn", SettingType.Number, null, null, null, "4x", "`4x` (a multiple of the width) or `1536` (a width)", "FFN width (short form of `ffn_multiplier` / `ffn_hidden`)");
    public static readonly Setting FfnHidden = new(TransformerSection, "ffn_hidden", SettingType.Whole, "TransformerBlocks", "FfnHidden", 0, "4 × width", "1 … 16,777,216", "FFN hidden width");
    public static readonly Setting FfnMultiplier = new(TransformerSection, "ffn_multiplier", SettingType.Number, "TransformerBlocks", "FfnMultiplier", 0.0, "4", "> 0, giving a whole width ≥ 1", "FFN hidden width as a multiple of the width");
    public static readonly Setting FfnLast = new(TransformerSection, "ffn_last", SettingType.Number, null, null, null, "none (uniform)", "like `ffn` (`4x` or `1536`), the same kind as `ffn`", "FFN width of the last block: linear from `ffn` across the stack");
    public static readonly Setting FfnHiddenLast = new(TransformerSection, "ffn_hidden_last", SettingType.Whole, "TransformerBlocks", "FfnHiddenLast", 0, "none (uniform)", "≥ 1", "FFN width of the last block, interpolated from `ffn_hidden`");
    public static readonly Setting FfnMultiplierLast = new(TransformerSection, "ffn_multiplier_last", SettingType.Number, "TransformerBlocks", "FfnMultiplierLast", 0.0, "none (uniform)", "> 0", "FFN multiplier of the last block, interpolated (widths rounded)");
    public static readonly Setting FfnHiddenPerBlock = new(TransformerSection, "ffn_hidden", SettingType.Whole, "TransformerBlocks", "FfnHiddenPerBlock", null, "none", "one per block (YAML: a list for `ffn` or `ffn_hidden`)", "FFN width, block by block") { SpecKey = "ffn_hidden_list" };
    public static readonly Setting FfnMultiplierPerBlock = new(TransformerSection, "ffn_multiplier", SettingType.Number, "TransformerBlocks", "FfnMultiplierPerBlock", null, "none", "one per block (YAML: a list for `ffn` or `ffn_multiplier`)", "FFN multiplier, block by block (widths rounded)") { SpecKey = "ffn_multiplier_list" };
    public static readonly Setting BlockRepeat = new(TransformerSection, "block_repeat", SettingType.Whole, "TransformerBlocks", "BlockRepeat", 0, "1", "1 … 100,000", "applications of each block right after the other (block-wise sharing, as MobileLLM)");
    public static readonly Setting LoraRank = new(TransformerSection, "lora_rank", SettingType.Whole, "TransformerBlocks", "LoraRank", 0, "0 (none)", "0 … 65,536; needs sharing", "rank of a LoRA adapter per application of a shared block, on each of its linear layers");
    public static readonly Setting BlockActivation = new(TransformerSection, "activation", SettingType.Name, "TransformerBlocks", "Activation", 1, "`gelu`", "`relu` \\| `gelu` \\| `silu` \\| `swiglu` \\| `relu2` \\| `leaky_relu2` \\| `tanh` \\| `identity`", "FFN activation (`relu2`: relu(x)²; `leaky_relu2`: leaky_relu(x, 0.5)²)");
    public static readonly Setting Norm = new(TransformerSection, "norm", SettingType.Name, "TransformerBlocks", "Norm", 1, "`layernorm`", "`layernorm` \\| `rmsnorm` \\| `rmsnorm_free` \\| `none`", "norm kind (`rmsnorm_free`: RMSNorm without a learned scale)");
    public static readonly Setting NormBias = new(TransformerSection, "norm_bias", SettingType.Flag, "TransformerBlocks", "NormBias", true, "true", "true \\| false", "LayerNorm bias");
    public static readonly Setting QkNorm = new(TransformerSection, "qk_norm", SettingType.Flag, "TransformerBlocks", "QkNorm", false, "false", "true \\| false", "RMSNorm of each query and key head before attention (OLMo 2, Qwen3): 2 × head size parameters a block");
    public static readonly Setting QkNormWeight = new(TransformerSection, "qk_norm_weight", SettingType.Flag, "TransformerBlocks", "QkNormWeight", true, "true", "true \\| false; needs `qk_norm`", "a learned scale in QK-norm (false: parameter-free, as the modded-nanogpt speedrun)");
    public static readonly Setting QueryGain = new(TransformerSection, "query_gain", SettingType.Number, "TransformerBlocks", "QueryGain", 0.0, "0 (none)", "0, or (0, 1000]", "a learned gain per query head, initialised to this value, multiplied into the queries after QK-norm and RoPE: heads parameters a block");
    public static readonly Setting RopeDims = new(TransformerSection, "rope_dims", SettingType.Whole, "TransformerBlocks", "RopeDims", 0, "0 (the whole head)", "0, or an even number ≤ the head size; needs `positions: rope`", "partial RoPE: rotate the first this many dimensions of each head, pass the rest through");
    public static readonly Setting BranchScales = new(TransformerSection, "branch_scales", SettingType.Flag, "TransformerBlocks", "BranchScales", false, "false", "true \\| false", "learned per-channel scales on the attention and FFN branches (`attn_scale`, `mlp_scale`, initialised to one): 2 × width parameters a block");
    public static readonly Setting ResidualMix = new(TransformerSection, "residual_mix", SettingType.Flag, "TransformerBlocks", "ResidualMix", false, "false", "true \\| false", "each block first mixes its input with the stack's input x₀ (the embedding output): `resid_mix[0] ⊙ x + resid_mix[1] ⊙ x₀`, 2 × width parameters a block");
    public static readonly Setting ValueResidual = new(TransformerSection, "value_residual", SettingType.Flag, "TransformerBlocks", "ValueResidual", false, "false", "true \\| false; 2 or more blocks, no sharing, equal k/v widths", "value residual (ResFormer, the modded-nanogpt speedrun): every block after the first mixes the first block's values into its own, v ← v + λ·(v₁ − v), one learned λ a block (initialised to 0.5)");
    public static readonly Setting Parallel = new(TransformerSection, "parallel", SettingType.Flag, "TransformerBlocks", "Parallel", false, "false", "true \\| false; pre-norm only", "attention and FFN on the same input, both added to it (GPT-J, PaLM)");
    public static readonly Setting DepthScaledNorms = new(TransformerSection, "depth_scaled_norms", SettingType.Flag, "TransformerBlocks", "DepthScaledNorms", false, "false", "true \\| false; pre-norm only", "the two norms' outputs of block i are multiplied by 1/√(i+1): deeper blocks write smaller updates");
    public static readonly Setting UNetSkips = new(TransformerSection, "unet_skips", SettingType.Flag, "TransformerBlocks", "UNetSkips", false, "false", "true \\| false; 2 or more blocks, no sharing", "U-Net skips: the outputs of the first ⌊layers/2⌋ blocks are added, last in first out, to the inputs of the blocks after them through learned per-channel weights (⌊layers/2⌋ × width); with an odd count the last block receives none");
    public static readonly Setting PreNorm = new(TransformerSection, "pre_norm", SettingType.Flag, "TransformerBlocks", "PreNorm", true, "true", "true \\| false", "pre-norm (false: post-norm, the original Transformer)");
    public static readonly Setting PackedQkv = new(TransformerSection, "packed_qkv", SettingType.Flag, "TransformerBlocks", "PackedQkv", true, "true", "true \\| false", "one q/k/v projection or three");
    public static readonly Setting AttentionBias = new(TransformerSection, "attention_bias", SettingType.Flag, "TransformerBlocks", "AttentionBias", true, "true", "true \\| false", "biases of the attention projections");
    public static readonly Setting FfnBias = new(TransformerSection, "ffn_bias", SettingType.Flag, "TransformerBlocks", "FfnBias", true, "true", "true \\| false", "biases of the FFN");
    public static readonly Setting BlockDropout = new(TransformerSection, "dropout", SettingType.Number, "TransformerBlocks", "Dropout", Inherit, "the model's `dropout`", "[0, 1)", "dropout on attention probabilities and residual branches");
    public static readonly Setting FfnDropout = new(TransformerSection, "ffn_dropout", SettingType.Number, "TransformerBlocks", "FfnDropout", 0.0, "0", "[0, 1)", "dropout inside the FFN, after its activation");

    // Final norm.
    public static readonly Setting FinalNormKind = new(FinalNormSection, "kind", SettingType.Name, "FinalNorm", "Kind", 0, "`none`", "`layernorm` \\| `rmsnorm` \\| `rmsnorm_free` \\| `none`", "norm kind");
    public static readonly Setting FinalNormBias = new(FinalNormSection, "bias", SettingType.Flag, "FinalNorm", "Bias", true, "true", "true \\| false", "LayerNorm bias");

    // Head.
    public static readonly Setting HeadTied = new(HeadSection, "tied", SettingType.Flag, "LMHead", "TiedToEmbedding", false, "false", "true \\| false", "use the token embedding's weight");
    public static readonly Setting HeadBias = new(HeadSection, "bias", SettingType.Flag, "LMHead", "Bias", false, "false", "true \\| false", "bias vector (own weights only)");
    public static readonly Setting HeadGroups = new(HeadSection, "groups", SettingType.Whole, "LMHead", "Groups", 0, "0 (one softmax over the vocabulary)", "0, or 2 … vocabulary", "grouped (two-level) head: predict one of this many groups of consecutive ids (BPE merge order), then the id within its group (Vennam et al. 2024): width × (groups + group size) weights instead of width × vocabulary");
    public static readonly Setting HeadConditioned = new(HeadSection, "conditioned", SettingType.Flag, "LMHead", "Conditioned", false, "false", "true \\| false; with `groups`", "a grouped head whose within-group softmax is conditioned on the group: the position given group g scored as softmax(W_pos (h ⊙ (1 + e_g))), a learned gate e_g per group (groups × width more parameters, starting at 0: the unconditioned head); training FLOPs as the unconditioned head's, the full distribution (scoring every id, sampling) as a full head's");
    public static readonly Setting HeadSoftCap = new(HeadSection, "softcap", SettingType.Number, "LMHead", "SoftCap", 0.0, "0 (none)", "0, or (0, 1,000,000]; not with `groups`", "logit soft-capping (Gemma 2): scores become softcap · tanh(scores / softcap)");
    public static readonly Setting HeadRank = new(HeadSection, "rank", SettingType.Whole, "LMHead", "Rank", 0, "0 (a full matrix)", "0 … 16,777,216", "bottleneck width of a factorised head");

    // Budget.
    public static readonly Setting MaxParameters = new(BudgetSection, "max_parameters", SettingType.Whole, "Budget", "MaxParameters", 0L, "none", "≥ 0 (0 = none)", "parameters");
    public static readonly Setting MaxForwardFlops = new(BudgetSection, "max_forward_flops_per_token", SettingType.Whole, "Budget", "MaxForwardFlopsPerToken", 0L, "none", "≥ 0 (0 = none)", "forward FLOPs per token (per prediction for flatten models)");
    public static readonly Setting MaxTrainingFlops = new(BudgetSection, "max_training_flops", SettingType.Number, "Budget", "MaxTrainingFlops", 0.0, "none", "≥ 0 (0 = none)", "training FLOPs of the whole run (needs `training_tokens`)");
    public static readonly Setting TrainingCharacters = new(BudgetSection, "training_characters", SettingType.Whole, "Budget", "TrainingCharacters", 0L, "none", "≥ 0", "characters of text the model will be trained on: training tokens = characters / `characters_per_token` (instead of `training_tokens`)");
    public static readonly Setting CharactersPerToken = new(BudgetSection, "characters_per_token", SettingType.Number, "Budget", "CharactersPerToken", 0.0, "1 for `tokenizer: chars`, else required with `training_characters`", "> 0", "the tokenizer's measured compression (`slmgen tokenizer stats`, a BPE's stats.json): also gives the cost report's figures per character");
    public static readonly Setting TrainingTokens = new(BudgetSection, "training_tokens", SettingType.Whole, "Budget", "TrainingTokens", 0L, "none", "≥ 0", "tokens the model will be trained on");
    public static readonly Setting MaxWeightBytes = new(BudgetSection, "max_weight_bytes", SettingType.Whole, "Budget", "MaxWeightBytes", 0L, "none", "≥ 0 (0 = none)", "weight bytes at the declared precision (fp32 without `quantization`)");
    public static readonly Setting MaxArtifactBytes = new(BudgetSection, "max_artifact_bytes", SettingType.Whole, "Budget", "MaxArtifactBytes", 0L, "none", "≥ 0 (0 = none)", "bytes of the artifact file (uncompressed, before its tokenizer): weights at the precision plan, header and architecture, exact");
    public static readonly Setting MaxTrainingTime = new(BudgetSection, "max_training_time", SettingType.Name, "Budget", "MaxTrainingTime", "", "none", "a duration: `90s`, `45m`, `2h`, `1.5d`", "the training run's time on the project's device profile (`SlmGenDeviceProfile`, at `SlmGenTrainingBatch` windows a step, eager or, with `SlmGenTrainingGraphed`, each step one CUDA graph; needs `training_tokens` or `training_characters`): predicted by the time model (docs/time.md)");
    public static readonly Setting MaxDecodeLatency = new(BudgetSection, "max_decode_latency", SettingType.Name, "Budget", "MaxDecodeLatency", "", "none", "a duration: `800us`, `5ms`, `0.2s`", "one decoded token at batch 1 after a full context of cached positions, on the project's device profile (docs/time.md)");
    public static readonly Setting MaxKvCacheBytes = new(BudgetSection, "max_kv_cache_bytes", SettingType.Whole, "Budget", "MaxKvCacheBytes", 0L, "none", "≥ 0 (0 = none)", "KV cache bytes of a full context in bf16");

    /// <summary>Every setting, in docs order.</summary>
    public static readonly Setting[] All =
    {
        Name, Namespace, Vocab, Context, Dropout, EmbeddingDropout, Init, PadVocabTo, Tokenizer, Embedding, Positions, Layers, FinalNorm, Head, Budget, Quantization,
        Dim, BigramBuckets, BigramDim,
        PositionKind, PositionLength, RopeBase,
        Window,
        Units, DenseActivation, DenseBias, DenseDropout,
        BlockCount, Repeat, BlockRepeat, LoraRank, Heads, HeadsLast, HeadsPerBlock, KvHeads, KvHeadsLast, KvHeadsPerBlock, HeadDim,
        Ffn, FfnLast, FfnHidden, FfnHiddenLast, FfnHiddenPerBlock, FfnMultiplier, FfnMultiplierLast, FfnMultiplierPerBlock, BlockActivation, Norm, NormBias, PreNorm, QkNorm, QkNormWeight, QueryGain, RopeDims, ValueResidual, BranchScales, ResidualMix, Parallel, DepthScaledNorms, UNetSkips, PackedQkv, AttentionBias, FfnBias, BlockDropout, FfnDropout,
        FinalNormKind, FinalNormBias,
        HeadTied, HeadBias, HeadRank, HeadGroups, HeadConditioned, HeadSoftCap,
        MaxParameters, MaxForwardFlops, MaxTrainingFlops, TrainingTokens, TrainingCharacters, CharactersPerToken, MaxWeightBytes, MaxArtifactBytes, MaxKvCacheBytes, MaxTrainingTime, MaxDecodeLatency,
        QuantAttention, QuantMlp, QuantDense, QuantHead, QuantEmbedding, QuantGroup, QuantScales, QuantOthers, QuantMethod, QuantGrid, QuantCompression,
    };

    /// <summary>The layer kinds a YAML <c>layers:</c> list takes.</summary>
    public static readonly string[] LayerKinds = { FlattenSection, DenseSection, TransformerSection };

    private static readonly Dictionary<string, string[]> KeysBySection = All
        .GroupBy(s => s.Section)
        .ToDictionary(g => g.Key, g => g.Select(s => s.Key).Distinct().ToArray());

    /// <summary>The default of a whole-number or enum setting (what the attribute holds when it is not written).</summary>
    public static int DefaultInt(Setting s) => System.Convert.ToInt32(s.AttributeDefault, System.Globalization.CultureInfo.InvariantCulture);

    public static double DefaultDouble(Setting s) => System.Convert.ToDouble(s.AttributeDefault, System.Globalization.CultureInfo.InvariantCulture);

    public static bool DefaultBool(Setting s) => (bool)s.AttributeDefault!;

    /// <summary>The settings an attribute carries as named arguments.</summary>
    public static IEnumerable<Setting> OfAttribute(string attribute) => All.Where(s => s.Attribute == attribute && s.Property is not null);

    /// <summary>The settings a YAML key of a section stands for (two for a key that also takes a per-block list).</summary>
    public static IEnumerable<Setting> OfKey(string section, string key) => All.Where(s => s.Section == section && s.Key == key);

    /// <summary>The YAML keys a section allows.</summary>
    public static string[] KeysOf(string section) => KeysBySection.TryGetValue(section, out var keys) ? keys : new string[0];

    /// <summary>The schema table of docs/yaml-schema.md (a test keeps the file equal to it).</summary>
    public static string MarkdownTable()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("| section | key | attribute | allowed | default | meaning |\n");
        sb.Append("|---|---|---|---|---|---|\n");
        foreach (var s in All)
        {
            var attribute = s.Attribute is null ? "(YAML only)" : s.Property is null ? $"`[{s.Attribute}]`" : $"`{s.Attribute}.{s.Property}`";
            sb.Append($"| {s.Section} | `{s.Key}` | {attribute} | {s.Allowed} | {s.Default} | {s.Meaning} |\n");
        }

        return sb.ToString();
    }
}
