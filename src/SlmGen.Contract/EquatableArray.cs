using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

#if SLMGEN_RUNTIME
namespace SlmGen;
#else
namespace SlmGen.Generator.Model;
#endif

/// <summary>An immutable array with value equality, so that pipeline models that hold one compare by content.</summary>
/// <remarks>
/// A class, not a struct: Roslyn's incremental node tables are generic over the step's value type, and
/// for reference types the runtime shares one compiled copy of them, so that a cold build JIT-compiles less
/// (measured with samples/GeneratorBench; see results/generator-speed.md).
/// </remarks>
public sealed class EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
    where T : IEquatable<T>
{
    /// <summary>No items.</summary>
    public static readonly EquatableArray<T> Empty = new(ImmutableArray<T>.Empty);

    private readonly ImmutableArray<T> items;

    /// <summary>Wraps <paramref name="items"/>.</summary>
    public EquatableArray(ImmutableArray<T> items) => this.items = items;

    /// <summary>Copies <paramref name="items"/>.</summary>
    public EquatableArray(IEnumerable<T> items) => this.items = items.ToImmutableArray();

    /// <summary>The items (empty, never default).</summary>
    public ImmutableArray<T> AsImmutableArray() => items.IsDefault ? ImmutableArray<T>.Empty : items;

    /// <inheritdoc />
    public int Count => items.IsDefault ? 0 : items.Length;

    /// <inheritdoc />
    public T this[int index] => AsImmutableArray()[index];

    /// <summary>True when both hold equal items in the same order.</summary>
    public bool Equals(EquatableArray<T>? other) => other is not null && (ReferenceEquals(this, other) || AsImmutableArray().SequenceEqual(other.AsImmutableArray()));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as EquatableArray<T>);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = 17;
        foreach (var item in AsImmutableArray())
        {
            hash = unchecked((hash * 31) + (item?.GetHashCode() ?? 0));
        }

        return hash;
    }

    /// <summary>Enumerates the items.</summary>
    public ImmutableArray<T>.Enumerator GetEnumerator() => AsImmutableArray().GetEnumerator();

    IEnumerator<T> IEnumerable<T>.GetEnumerator() => ((IEnumerable<T>)AsImmutableArray()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable)AsImmutableArray()).GetEnumerator();

    /// <summary>Value equality.</summary>
    public static bool operator ==(EquatableArray<T>? left, EquatableArray<T>? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(EquatableArray<T>? left, EquatableArray<T>? right) => !(left == right);
}

/// <summary>Creates equatable arrays.</summary>
public static class EquatableArray
{
    /// <summary>Copies <paramref name="items"/> into an equatable array.</summary>
    public static EquatableArray<T> ToEquatableArray<T>(this IEnumerable<T> items)
        where T : IEquatable<T> => new(items);
}
