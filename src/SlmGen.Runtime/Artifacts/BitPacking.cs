using System;
using System.IO;

namespace SlmGen.Artifacts;

/// <summary>
/// Integer codes in [least, largest] of their grid (symmetric: [−levels, levels]; stretched: [−2^(b−1), 2^(b−1) − 1]) packed
/// at <c>bits</c> bits each: code − least as an unsigned number, little-endian
/// bit order (code i occupies bits i·b … i·b + b − 1 of the stream, least significant first), the last byte padded with
/// zero bits. <see cref="ArtifactLayout.PackedBytes"/> gives the size.
/// </summary>
public static class BitPacking
{
    /// <summary>Packs <paramref name="codes"/>.</summary>
    public static byte[] Pack(ReadOnlySpan<sbyte> codes, int bits, QuantGrid grid = QuantGrid.Symmetric)
    {
        var least = ArtifactLayout.MinCode(bits, grid);
        var span = ArtifactLayout.MaxCode(bits, grid) - least;
        var packed = new byte[ArtifactLayout.PackedBytes(codes.Length, bits)];
        ulong buffer = 0;
        var held = 0;
        var at = 0;
        foreach (var code in codes)
        {
            var u = code - least;
            if ((uint)u > (uint)span)
            {
                throw new ArgumentOutOfRangeException(nameof(codes), code, $"a {bits}-bit code of the {ArtifactPlan.Name(grid)} grid lies in [{least}, {least + span}]");
            }

            buffer |= (ulong)u << held;
            held += bits;
            while (held >= 8)
            {
                packed[at++] = (byte)buffer;
                buffer >>= 8;
                held -= 8;
            }
        }

        if (held > 0)
        {
            packed[at] = (byte)buffer;
        }

        return packed;
    }

    /// <summary>
    /// Unpacks <paramref name="count"/> codes; a stored value beyond the grid's codes or a padding bit that is not zero is
    /// damage (<see cref="InvalidDataException"/> naming <paramref name="what"/>).
    /// </summary>
    public static sbyte[] Unpack(ReadOnlySpan<byte> packed, long count, int bits, string what, QuantGrid grid = QuantGrid.Symmetric)
    {
        if (packed.Length != ArtifactLayout.PackedBytes(count, bits))
        {
            throw new InvalidDataException($"{what}: {packed.Length:N0} bytes hold no {count:N0} codes of {bits} bits.");
        }

        var least = ArtifactLayout.MinCode(bits, grid);
        var span = ArtifactLayout.MaxCode(bits, grid) - least;
        var mask = (1UL << bits) - 1;
        var codes = new sbyte[count];
        ulong buffer = 0;
        var held = 0;
        var at = 0;
        for (long i = 0; i < count; i++)
        {
            while (held < bits)
            {
                buffer |= (ulong)packed[at++] << held;
                held += 8;
            }

            var u = (int)(buffer & mask);
            buffer >>= bits;
            held -= bits;
            if (u > span)
            {
                throw new InvalidDataException($"{what}: code {i:N0} is {u}, beyond the {span} of a {bits}-bit code (damaged).");
            }

            codes[i] = (sbyte)(u + least);
        }

        if (buffer != 0 || at != packed.Length)
        {
            throw new InvalidDataException($"{what}: the padding bits after the last code are not zero (damaged).");
        }

        return codes;
    }
}
