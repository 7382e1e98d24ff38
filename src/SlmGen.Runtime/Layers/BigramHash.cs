using System;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SlmGen.Layers;

/// <summary>
/// Hashed bigram embeddings (<see cref="BigramStep"/>): position t of a window looks up bucket
/// <c>((36313·x_t) XOR (27191·x_(t−1))) mod (buckets − 1)</c> of a table (the window's first position, with no
/// predecessor in it, takes bucket <c>buckets − 1</c>), projected to the model's width when the rows are narrower.
/// The caller adds the result to the token embedding. With a KV cache the previous call's last token is the
/// predecessor of the new tokens' first, so incremental decoding hashes what the full window hashes.
/// It starts as no change: the projection is zero (without one, the table is).
/// </summary>
public sealed class BigramHash : nn.Module<Tensor, Tensor>
{
    /// <summary>The multiplier of the current token in the hash.</summary>
    public const long CurrentMultiplier = 36_313;

    /// <summary>The multiplier of the previous token in the hash.</summary>
    public const long PreviousMultiplier = 27_191;

    private readonly Embedding embed;
    private readonly Linear? proj;

    /// <summary>Creates a table of <paramref name="buckets"/> rows of <paramref name="dim"/>, projected to <paramref name="width"/> when they differ.</summary>
    public BigramHash(long buckets, long dim, long width)
        : base(nameof(BigramHash))
    {
        if (buckets < 2 || dim < 1 || width < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(buckets), $"{buckets} buckets of {dim} for width {width}: at least 2 buckets and positive widths.");
        }

        Buckets = buckets;
        embed = nn.Embedding(buckets, dim);
        proj = dim != width ? nn.Linear(dim, width, hasBias: false) : null;
        RegisterComponents();
        ResetToNoChange();
    }

    /// <summary>Rows of the table.</summary>
    public long Buckets { get; }

    /// <summary>Zeroes the projection (or, without one, the table), so that the layer adds nothing until it has learned.</summary>
    public void ResetToNoChange()
    {
        using var noGrad = no_grad();
        nn.init.zeros_(proj is not null ? proj.weight! : embed.weight!);
    }

    /// <summary>The buckets of (B, T) token ids; <paramref name="previous"/> (B, 1): the token before the first, or null.</summary>
    public Tensor Hash(Tensor idx, Tensor? previous)
    {
        var before = previous is null ? idx.narrow(1, 0, idx.shape[1] - 1) : cat(new[] { previous, idx.narrow(1, 0, idx.shape[1] - 1) }, 1);
        var after = previous is null ? idx.narrow(1, 1, idx.shape[1] - 1) : idx;
        using var last = (Buckets - 1).ToScalar();
        var mixed = bitwise_xor(after.Times(CurrentMultiplier), before.Times(PreviousMultiplier)).remainder(last);
        return previous is null ? cat(new[] { full(new[] { idx.shape[0], 1L }, last, ScalarType.Int64, idx.device), mixed }, 1) : mixed;
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor idx) => Embed(idx, null);

    /// <summary>
    /// The bigram vectors of (B, T) ids, (B, T, width). With a <paramref name="cache"/> that already holds positions,
    /// its last token precedes the first id; the cache then keeps this call's last token for the next.
    /// </summary>
    public Tensor Embed(Tensor idx, Generation.KvCache? cache)
    {
        var previous = cache is { Length: > 0, LastToken: { } last } ? last : null;
        var rows = embed.call(Hash(idx, previous));
        if (cache is not null)
        {
            cache.LastToken = idx.narrow(1, idx.shape[1] - 1, 1);
        }

        return proj is null ? rows : proj.call(rows);
    }
}
