// Declared once for the generator and the runtime (src/SlmGen.Contract; see its README): a model's resolved plan,
// step by step. The generator's planner derives it once from a validated spec (every width, field name and
// effective setting); the cost model, emitters, fingerprint and budget analyzer read it; the generated model
// constructs its layers from it and exposes it (SlmModel.Plan), and the runtime's exports switch on it.
#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>One step of the forward pass.</summary>
/// <param name="Field">The module field that holds it ("" for steps without one).</param>
/// <param name="InWidth">Features per row coming in.</param>
/// <param name="OutWidth">Features per row going out.</param>
/// <param name="PerPosition">True when it runs at every position of the window (before a flatten, or in a model without one).</param>
public abstract record PlanStep(string Field, long InWidth, long OutWidth, bool PerPosition);

/// <summary>The token embedding (wte).</summary>
/// <param name="Field">The module field.</param>
/// <param name="Vocab">Rows: the vocabulary (padded).</param>
/// <param name="Dim">Width of a token's vector.</param>
/// <param name="Bits">Weight precision for quantisation-aware training (0 = full).</param>
public sealed record EmbeddingStep(string Field, long Vocab, long Dim, int Bits) : PlanStep(Field, 0, Dim, true);

/// <summary>Positions added to the embedding: a learned table of <paramref name="Rows"/>, or fixed sinusoids.</summary>
/// <param name="Field">The module field.</param>
/// <param name="Kind">Learned or sinusoidal.</param>
/// <param name="Rows">Positions in the table.</param>
/// <param name="Dim">Width of a position's vector.</param>
public sealed record PositionsStep(string Field, PositionKind Kind, long Rows, long Dim) : PlanStep(Field, Dim, Dim, true);

/// <summary>Rotary positions: no module of its own, applied inside every attention layer.</summary>
/// <param name="Base">The frequency base θ.</param>
/// <param name="Dim">The width it passes through.</param>
public sealed record RopeStep(double Base, long Dim) : PlanStep(string.Empty, Dim, Dim, true);

/// <summary>
/// Hashed bigram embeddings added to the token embedding (the parameter-golf records' BigramHash): position t looks up
/// bucket <c>((36313·x_t) XOR (27191·x_(t−1))) mod (Buckets − 1)</c> of a <paramref name="Buckets"/> × <paramref name="Dim"/>
/// table — the window's first position, which has no predecessor in it, takes bucket <c>Buckets − 1</c> — and, when
/// <paramref name="Dim"/> is not the model's width, a bias-free projection to <paramref name="Width"/>; the result is added
/// to the token embedding (after positions). It starts as no change: the projection (or, without one, the table) is zero.
/// </summary>
/// <param name="Field">The module field.</param>
/// <param name="Buckets">Rows of the hash table (2 or more).</param>
/// <param name="Dim">Width of a row.</param>
/// <param name="Width">The model's width (the projection's output).</param>
public sealed record BigramStep(string Field, long Buckets, long Dim, long Width) : PlanStep(Field, Width, Width, true)
{
    /// <summary>True when a row is projected to the model's width (<see cref="Dim"/> ≠ <see cref="Width"/>).</summary>
    public bool Projects => Dim != Width;

    /// <summary>Table and projection parameters.</summary>
    public long Parameters => (Buckets * Dim) + (Projects ? Dim * Width : 0);
}

/// <summary>Dropout on the embedding output.</summary>
/// <param name="Field">The module field.</param>
/// <param name="Probability">The dropout probability.</param>
/// <param name="Dim">The width it passes through.</param>
public sealed record EmbeddingDropoutStep(string Field, double Probability, long Dim) : PlanStep(Field, Dim, Dim, true);

/// <summary>The last <paramref name="Window"/> positions side by side: (B, T, d) → (B, Window·d).</summary>
/// <param name="Field">The module field.</param>
/// <param name="Window">Positions side by side.</param>
/// <param name="InWidth">Width of one position.</param>
public sealed record FlattenStep(string Field, long Window, long InWidth) : PlanStep(Field, InWidth, Window * InWidth, false);

/// <summary>A dense layer with its effective dropout.</summary>
/// <param name="Field">The module field.</param>
/// <param name="InWidth">Input features.</param>
/// <param name="OutWidth">Output features.</param>
/// <param name="Activation">Its activation.</param>
/// <param name="Bias">A bias.</param>
/// <param name="Dropout">Dropout after the activation.</param>
/// <param name="PerPosition">True before a flatten (or without one).</param>
/// <param name="Bits">Weight precision for quantisation-aware training (0 = full).</param>
public sealed record DenseStep(string Field, long InWidth, long OutWidth, Act Activation, bool Bias, double Dropout, bool PerPosition, int Bits)
    : PlanStep(Field, InWidth, OutWidth, PerPosition);

/// <summary>
/// A stack of <paramref name="Blocks"/> distinct transformer blocks, each built from <paramref name="Block"/>
/// (the shared contract's record, which the generated code prints and the runtime layer takes) with the shape
/// of its own when the blocks differ (<paramref name="Shapes"/>; empty when they are alike).
/// </summary>
/// <param name="Field">The module field (a module list of blocks).</param>
/// <param name="LayerIndex">Its index in the spec's layers (diagnostic keys).</param>
/// <param name="Blocks">Distinct blocks (each with weights of its own).</param>
/// <param name="Block">The first block; the others differ from it in shape only.</param>
/// <param name="Shapes">Every block's shape when they differ; empty when they are alike.</param>
public sealed record StackStep(string Field, int LayerIndex, int Blocks, BlockConfig Block, EquatableArray<BlockShape> Shapes)
    : PlanStep(Field, Block.Width, Block.Width, true)
{
    /// <summary>Width of the residual stream.</summary>
    public long Width => Block.Width;

    /// <summary>True when every block has the first block's shape (<see cref="Shapes"/> is then empty).</summary>
    public bool IsUniform => Shapes.Count == 0;

    /// <summary>Block <paramref name="i"/>'s shape.</summary>
    public BlockShape Shape(int i) => IsUniform ? Block.Shape : Shapes[i];

    /// <summary>Block <paramref name="i"/>, resolved.</summary>
    public BlockConfig BlockAt(int i)
    {
        var block = IsUniform ? Block : Block.WithShape(Shapes[i]);
        return Block.DepthScaledNorms || Block.Attention.ValueResidual ? block with { Depth = i } : block;
    }

    /// <summary>Applications of each block in one forward pass: whole-stack passes × immediate repeats.</summary>
    public long ApplicationsPerBlock => Block.Sharing.ApplicationsPerBlock;

    /// <summary>Block applications in one forward pass.</summary>
    public long Applications => Blocks * ApplicationsPerBlock;

    /// <summary>
    /// U-Net skip connections: the outputs of the first ⌊Blocks / 2⌋ blocks (the encoder half) are kept and added,
    /// last in first out, to the inputs of the blocks that follow them, each through a learned per-channel weight
    /// (<c>{Field}_skip_weights</c>: ⌊Blocks / 2⌋ × width, initialised to one). With an odd count the decoder half has
    /// one block more, and its last block receives no skip.
    /// </summary>
    public bool UNetSkips { get; init; }

    /// <summary>The skip connections of a U-Net stack: ⌊Blocks / 2⌋ (0 without <see cref="UNetSkips"/>).</summary>
    public int Skips => UNetSkips ? Blocks / 2 : 0;

    /// <summary>The value-residual mixing coefficients: one λ for each block after the first (0 without value residual).</summary>
    public int ValueLambdas => Block.Attention.ValueResidual ? Blocks - 1 : 0;

    /// <summary>The model field (a parameter of <see cref="Skips"/> × width) that holds a U-Net stack's skip weights.</summary>
    public string SkipWeightsField => Field + "_skip_weights";
}

/// <summary>The norm before the head.</summary>
/// <param name="Field">The module field.</param>
/// <param name="Kind">LayerNorm or RMSNorm.</param>
/// <param name="Bias">A LayerNorm bias.</param>
/// <param name="Width">The width it normalises.</param>
/// <param name="PerPosition">True when it runs at every position.</param>
public sealed record FinalNormStep(string Field, NormKind Kind, bool Bias, long Width, bool PerPosition) : PlanStep(Field, Width, Width, PerPosition);

/// <summary>The kinds of LM head.</summary>
public enum HeadKind
{
    /// <summary>A full matrix of its own.</summary>
    Full,

    /// <summary>The token embedding's matrix.</summary>
    Tied,

    /// <summary>Two levels: a group of consecutive ids, then the id within it (<see cref="HeadStep.Groups"/> groups of <see cref="HeadStep.GroupSize"/>).</summary>
    Grouped,

    /// <summary>Two matrices through a bottleneck of rank r.</summary>
    Factorised,
}

/// <summary>The LM head.</summary>
/// <param name="Field">The module field.</param>
/// <param name="Kind">Full, tied, grouped or factorised.</param>
/// <param name="InWidth">Its input width.</param>
/// <param name="Rank">The bottleneck of a factorised head (0 otherwise).</param>
/// <param name="Vocab">Scores it produces: the vocabulary (padded).</param>
/// <param name="Bias">A bias on the scores.</param>
/// <param name="PerPosition">True when it runs at every position.</param>
/// <param name="CanTie">True when its input width equals the embedding width, so tying would be possible.</param>
/// <param name="Bits">Weight precision (a tied head: the embedding's).</param>
public sealed record HeadStep(string Field, HeadKind Kind, long InWidth, long Rank, long Vocab, bool Bias, bool PerPosition, bool CanTie, int Bits)
    : PlanStep(Field, InWidth, Vocab, PerPosition)
{
    /// <summary>Groups of a grouped head (0 otherwise).</summary>
    public long Groups { get; init; }

    /// <summary>A grouped head whose position softmax is conditioned on the group: p(pos | g, h) = softmax(W_pos (h ⊙ (1 + e_g))).</summary>
    public bool Conditioned { get; init; }

    /// <summary>Logit soft-capping (Gemma 2): scores become <c>SoftCap · tanh(scores / SoftCap)</c>; 0 = none.</summary>
    public double SoftCap { get; init; }

    /// <summary>Ids per group of a grouped head: the vocabulary over the groups, rounded up.</summary>
    public long GroupSize => Groups > 0 ? (Vocab + Groups - 1) / Groups : 0;
}
