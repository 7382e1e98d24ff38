using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace SlmGen.Interop;

/// <summary>ggml's tensor types that the GGUF export writes.</summary>
public enum GgmlType : uint
{
    /// <summary>32-bit floats.</summary>
    F32 = 0,

    /// <summary>16-bit floats.</summary>
    F16 = 1,

    /// <summary>Blocks of 32 weights: an fp16 scale and 32 4-bit codes (value = (code − 8) · scale).</summary>
    Q4_0 = 2,

    /// <summary>Blocks of 32 weights: an fp16 scale and 32 int8 codes (value = code · scale).</summary>
    Q8_0 = 8,
}

/// <summary>
/// A GGUF version 3 file (llama.cpp's container: little-endian header, typed key/value metadata, tensor descriptions,
/// then the tensors' data, each aligned to <see cref="Alignment"/> bytes). No maintained .NET writer is served
/// (LLamaSharp reads GGUF, it does not write it), so this one writes exactly the layout llama.cpp's gguf.cpp reads.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>The data alignment (GGUF's default; written as general.alignment).</summary>
    public const int Alignment = 32;

    private readonly List<(string Key, uint Type, Action<BinaryWriter> Value)> metadata = new();
    private readonly List<(string Name, long[] Shape, GgmlType Type, byte[] Data)> tensors = new();

    /// <summary>A uint32 value.</summary>
    public void Add(string key, uint value) => metadata.Add((key, 4, w => w.Write(value)));

    /// <summary>An int32 value.</summary>
    public void Add(string key, int value) => metadata.Add((key, 5, w => w.Write(value)));

    /// <summary>A float32 value.</summary>
    public void Add(string key, float value) => metadata.Add((key, 6, w => w.Write(value)));

    /// <summary>A boolean value.</summary>
    public void Add(string key, bool value) => metadata.Add((key, 7, w => w.Write((byte)(value ? 1 : 0))));

    /// <summary>A string value.</summary>
    public void Add(string key, string value) => metadata.Add((key, 8, w => String(w, value)));

    /// <summary>An array of strings.</summary>
    public void Add(string key, IReadOnlyList<string> values) => metadata.Add((key, 9, w =>
    {
        w.Write(8u);
        w.Write((ulong)values.Count);
        foreach (var v in values)
        {
            String(w, v);
        }
    }));

    /// <summary>An array of int32.</summary>
    public void Add(string key, IReadOnlyList<int> values) => metadata.Add((key, 9, w =>
    {
        w.Write(5u);
        w.Write((ulong)values.Count);
        foreach (var v in values)
        {
            w.Write(v);
        }
    }));

    /// <summary>A tensor: <paramref name="shape"/> in ggml's order (the contiguous dimension first), its data already encoded as <paramref name="type"/>.</summary>
    public void AddTensor(string name, long[] shape, GgmlType type, byte[] data)
    {
        if (data.LongLength != Bytes(shape, type))
        {
            throw new ArgumentException($"{name}: {data.LongLength:N0} bytes, {type} [{string.Join(", ", shape)}] holds {Bytes(shape, type):N0}.", nameof(data));
        }

        tensors.Add((name, shape, type, data));
    }

    /// <summary>The bytes of a tensor of <paramref name="shape"/> stored as <paramref name="type"/>.</summary>
    public static long Bytes(long[] shape, GgmlType type)
    {
        long count = 1;
        foreach (var d in shape)
        {
            count *= d;
        }

        return type switch
        {
            GgmlType.F32 => count * 4,
            GgmlType.F16 => count * 2,
            GgmlType.Q8_0 => count / 32 * 34,
            GgmlType.Q4_0 => count / 32 * 18,
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    /// <summary>Writes the file.</summary>
    public void Write(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(0x46554747u); // "GGUF"
        w.Write(3u);
        w.Write((ulong)tensors.Count);
        w.Write((ulong)metadata.Count + 1);
        String(w, "general.alignment");
        w.Write(4u);
        w.Write((uint)Alignment);
        foreach (var (key, type, value) in metadata)
        {
            String(w, key);
            w.Write(type);
            value(w);
        }

        ulong offset = 0;
        foreach (var (name, shape, type, data) in tensors)
        {
            String(w, name);
            w.Write((uint)shape.Length);
            foreach (var d in shape)
            {
                w.Write((ulong)d);
            }

            w.Write((uint)type);
            w.Write(offset);
            offset += Pad((ulong)data.LongLength);
        }

        w.Flush();
        Zeros(w, Pad((ulong)stream.Position) - (ulong)stream.Position);
        foreach (var (_, _, _, data) in tensors)
        {
            w.Write(data);
            Zeros(w, Pad((ulong)data.LongLength) - (ulong)data.LongLength);
        }
    }

    private static ulong Pad(ulong n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void Zeros(BinaryWriter w, ulong count)
    {
        for (ulong i = 0; i < count; i++)
        {
            w.Write((byte)0);
        }
    }

    private static void String(BinaryWriter w, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    /// <summary>Encodes fp32 values (a whole number of 32-value blocks for the quantised types) as <paramref name="type"/>, rounding as ggml's reference quantisers do.</summary>
    public static byte[] Encode(ReadOnlySpan<float> values, GgmlType type)
    {
        switch (type)
        {
            case GgmlType.F32:
            {
                var bytes = new byte[values.Length * 4];
                for (var i = 0; i < values.Length; i++)
                {
                    BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), values[i]);
                }

                return bytes;
            }

            case GgmlType.F16:
            {
                var bytes = new byte[values.Length * 2];
                for (var i = 0; i < values.Length; i++)
                {
                    BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), (Half)values[i]);
                }

                return bytes;
            }

            case GgmlType.Q8_0:
            {
                var bytes = new byte[values.Length / 32 * 34];
                for (var b = 0; b < values.Length / 32; b++)
                {
                    var block = values.Slice(b * 32, 32);
                    var amax = 0f;
                    foreach (var v in block)
                    {
                        amax = Math.Max(amax, Math.Abs(v));
                    }

                    var d = amax / 127f;
                    var id = d != 0 ? 1f / d : 0f;
                    BitConverter.TryWriteBytes(bytes.AsSpan(b * 34), (Half)d);
                    for (var j = 0; j < 32; j++)
                    {
                        bytes[b * 34 + 2 + j] = (byte)(sbyte)MathF.Round(block[j] * id, MidpointRounding.AwayFromZero);
                    }
                }

                return bytes;
            }

            case GgmlType.Q4_0:
            {
                var bytes = new byte[values.Length / 32 * 18];
                for (var b = 0; b < values.Length / 32; b++)
                {
                    var block = values.Slice(b * 32, 32);
                    float amax = 0, max = 0;
                    foreach (var v in block)
                    {
                        if (amax < Math.Abs(v))
                        {
                            amax = Math.Abs(v);
                            max = v;
                        }
                    }

                    var d = max / -8f;
                    var id = d != 0 ? 1f / d : 0f;
                    BitConverter.TryWriteBytes(bytes.AsSpan(b * 18), (Half)d);
                    for (var j = 0; j < 16; j++)
                    {
                        var lo = Math.Min(15, (int)(sbyte)(block[j] * id + 8.5f));
                        var hi = Math.Min(15, (int)(sbyte)(block[16 + j] * id + 8.5f));
                        bytes[b * 18 + 2 + j] = (byte)(lo | (hi << 4));
                    }
                }

                return bytes;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    /// <summary>The values a reader gets back from <see cref="Encode"/>'s bytes (what llama.cpp computes with).</summary>
    public static float[] Decode(ReadOnlySpan<byte> bytes, GgmlType type, int count)
    {
        var values = new float[count];
        switch (type)
        {
            case GgmlType.F32:
                for (var i = 0; i < count; i++)
                {
                    values[i] = BitConverter.ToSingle(bytes.Slice(i * 4, 4));
                }

                break;
            case GgmlType.F16:
                for (var i = 0; i < count; i++)
                {
                    values[i] = (float)BitConverter.ToHalf(bytes.Slice(i * 2, 2));
                }

                break;
            case GgmlType.Q8_0:
                for (var b = 0; b < count / 32; b++)
                {
                    var d = (float)BitConverter.ToHalf(bytes.Slice(b * 34, 2));
                    for (var j = 0; j < 32; j++)
                    {
                        values[b * 32 + j] = (sbyte)bytes[b * 34 + 2 + j] * d;
                    }
                }

                break;
            case GgmlType.Q4_0:
                for (var b = 0; b < count / 32; b++)
                {
                    var d = (float)BitConverter.ToHalf(bytes.Slice(b * 18, 2));
                    for (var j = 0; j < 16; j++)
                    {
                        var q = bytes[b * 18 + 2 + j];
                        values[b * 32 + j] = ((q & 0x0F) - 8) * d;
                        values[b * 32 + 16 + j] = ((q >> 4) - 8) * d;
                    }
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }

        return values;
    }
}
