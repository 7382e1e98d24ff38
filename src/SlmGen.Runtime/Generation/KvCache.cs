using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace SlmGen.Generation;

/// <summary>
/// The key/value cache of incremental decoding. While a cache is active (<see cref="Activate"/>), a generated
/// model's forward pass takes only the new tokens: positions (learned, sinusoidal, rotary) start at
/// <see cref="Length"/>, and every attention call appends its keys and values (after rotary embedding, before
/// grouped-query heads are repeated) to its own slot and attends to everything cached. Slots are taken in call
/// order, so a block applied several times (whole-stack or block-wise repeats, shared blocks with LoRA) has one
/// slot per application. Layers without attention need no state: they act on each position alone.
/// The cache holds at most <see cref="Capacity"/> positions (the model's context).
/// </summary>
public sealed class KvCache : IDisposable
{
    [ThreadStatic]
    private static KvCache? active;

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

    /// <summary>The cache the current thread's forward pass uses, or null (full windows).</summary>
    public static KvCache? Active => active;

    /// <summary>Positions it can hold (the model's context).</summary>
    public int Capacity { get; }

    /// <summary>Positions already cached: the position of the next token.</summary>
    public long Length { get; private set; }

    /// <summary>Slots in use: attention applications per forward pass.</summary>
    public int Slots => slots.Count;

    /// <summary>
    /// Makes this cache active for one forward pass over <paramref name="newTokens"/> tokens; disposing the
    /// returned scope deactivates it and advances <see cref="Length"/>.
    /// </summary>
    public IDisposable Activate(long newTokens)
    {
        if (active is not null)
        {
            throw new InvalidOperationException("Another KV cache is active on this thread.");
        }

        if (newTokens <= 0 || Length + newTokens > Capacity)
        {
            throw new ArgumentOutOfRangeException(nameof(newTokens), newTokens, $"The cache holds {Length} of {Capacity} positions; {newTokens} more do not fit.");
        }

        active = this;
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

        var query = arange(Length, Length + t, device: device).unsqueeze(1);
        var key = arange(0, Length + t, device: device).unsqueeze(0);
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
    }

    private sealed class Scope : IDisposable
    {
        private readonly KvCache cache;

        public Scope(KvCache cache) => this.cache = cache;

        public void Dispose()
        {
            if (active == cache)
            {
                active = null;
                cache.Length += cache.pending;
                cache.pending = 0;
            }
        }
    }
}
