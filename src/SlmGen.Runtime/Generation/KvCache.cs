using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace SlmGen.Generation;

/// <summary>
/// The key/value cache of incremental decoding, set on a model explicitly (<see cref="SlmModel.SetKvCache"/>, as
/// litgpt's <c>set_kv_cache</c>): no ambient state. While a model has a cache, each forward pass is announced
/// with <see cref="Activate"/> and takes only the new tokens: positions (learned, sinusoidal, rotary) start at
/// <see cref="Length"/> (the model's <see cref="SlmModel.StartPosition"/>), and every attention layer appends its
/// keys and values (after rotary embedding, before grouped-query heads are repeated) to its own slot and attends
/// to everything cached. Slots are taken in call order, so a block applied several times (whole-stack or
/// block-wise repeats, shared blocks with LoRA) has one slot per application. Layers without attention need no
/// state: they act on each position alone. The cache holds at most <see cref="Capacity"/> positions (the model's context).
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly List<(Tensor K, Tensor V)> slots = new();
    private int next;
    private long pending;

    /// <summary>Creates an empty cache for <paramref name="capacity"/> positions.</summary>
    public KvCache(int capacity)
    {
        if (capacity <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "A cache needs room for at least one position.");
        }

        Capacity = capacity;
    }

    /// <summary>Positions it can hold (the model's context).</summary>
    public int Capacity { get; }

    /// <summary>Positions already cached: the position of the next token.</summary>
    public long Length { get; private set; }

    /// <summary>
    /// The last token of the previous pass, (B, 1), for layers that read the token before each position (hashed
    /// bigram embeddings); kept outside any dispose scope, and ignored while <see cref="Length"/> is 0.
    /// </summary>
    public Tensor? LastToken
    {
        get => lastToken;
        set
        {
            lastToken?.Dispose();
            lastToken = value?.clone().DetachFromDisposeScope();
        }
    }

    private Tensor? lastToken;

    /// <summary>Slots in use: attention applications per forward pass.</summary>
    public int Slots => slots.Count;

    /// <summary>
    /// Announces one forward pass over <paramref name="newTokens"/> tokens of the model this cache is set on;
    /// disposing the returned scope ends the pass and advances <see cref="Length"/>.
    /// </summary>
    public IDisposable Activate(long newTokens)
    {
        if (pending > 0)
        {
            throw new InvalidOperationException("A forward pass is already under way on this cache.");
        }

        if (newTokens <= 0 || Length + newTokens > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(newTokens), newTokens, $"The cache holds {Length} of {Capacity} positions; {newTokens} more do not fit.");
        }

        next = 0;
        pending = newTokens;
        return new Scope(this);
    }

    /// <summary>Empties the cache (the slots' buffers are kept for reuse).</summary>
    public void Clear()
    {
        Length = 0;
    }

    /// <summary>
    /// For an attention call: appends <paramref name="k"/> and <paramref name="v"/> (B, heads, T, hd) to the next
    /// slot and returns every cached key and value, (B, heads, Length + T, hd).
    /// </summary>
    public (Tensor K, Tensor V) Append(Tensor k, Tensor v)
    {
        if (pending == 0)
        {
            throw new InvalidOperationException("A model with a KV cache runs one announced pass at a time: wrap each forward pass in cache.Activate(newTokens).");
        }

        if (next == slots.Count)
        {
            var shape = new[] { k.shape[0], k.shape[1], Capacity, k.shape[3] };
            slots.Add((zeros(shape, k.dtype, k.device).DetachFromDisposeScope(), zeros(new[] { v.shape[0], v.shape[1], Capacity, v.shape[3] }, v.dtype, v.device).DetachFromDisposeScope()));
        }

        var (kb, vb) = slots[next++];
        if (kb.shape[0] != k.shape[0] || kb.shape[1] != k.shape[1] || kb.shape[3] != k.shape[3] || kb.dtype != k.dtype || kb.device_type != k.device_type)
        {
            throw new InvalidOperationException("The cache was filled by another batch size, dtype or device; clear it or use a new one.");
        }

        var t = k.shape[2];
        using (no_grad())
        using (NewDisposeScope()) // holds the two views while libtorch copies into them (a caller need not have a scope)
        {
            kb.narrow(2, Length, t).copy_(k);
            vb.narrow(2, Length, t).copy_(v);
        }

        return (kb.narrow(2, 0, Length + t), vb.narrow(2, 0, Length + t));
    }

    /// <summary>The attention mask for <paramref name="t"/> new queries over Length + t keys when it is not plain causal: null when it is.</summary>
    internal Tensor? Mask(long t, Device device)
    {
        if (Length == 0 || t == 1)
        {
            return null; // an empty cache is plain causal; one new query sees every key
        }

        var query = HeldScalars.Arange(Length, Length + t, 1, device).unsqueeze(1);
        var key = HeldScalars.Arange(0, Length + t, 1, device).unsqueeze(0);
        return key <= query;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (k, v) in slots)
        {
            k.Dispose();
            v.Dispose();
        }

        slots.Clear();
        LastToken = null;
    }

    private sealed class Scope : IDisposable
    {
        private readonly KvCache cache;

        public Scope(KvCache cache) => this.cache = cache;

        public void Dispose()
        {
            cache.Length += cache.pending;
            cache.pending = 0;
        }
    }
}
