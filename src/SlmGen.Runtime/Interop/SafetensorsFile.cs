using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Interop;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="DType">Its safetensors dtype (F32, BF16, I8, …).</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Begin">First byte in the data section.</param>
/// <param name="End">One past its last byte.</param>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>The parsed and validated header of a safetensors file.</summary>
public sealed class SafetensorsHeader
{
    internal SafetensorsHeader(string path, byte[] raw, IReadOnlyDictionary<string, string> metadata, IReadOnlyList<SafetensorsEntry> entries)
    {
        Path = path;
        Raw = raw;
        Metadata = metadata;
        Entries = entries;
    }

    /// <summary>The file it came from (for messages).</summary>
    public string Path { get; }

    /// <summary>The <c>__metadata__</c> map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>The tensors in file order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>Where the data section starts: 8 + the header's length.</summary>
    public long DataStart => 8 + Raw.Length;

    internal byte[] Raw { get; }
}

/// <summary>
/// The safetensors format (Hugging Face: an 8-byte little-endian header length, a JSON header, then the raw
/// little-endian tensor bytes), read and written with the checks of the reference implementation — the
/// header is one JSON object, every dtype known, every tensor's byte range equal to its shape × element size,
/// the ranges contiguous from zero and ending at the end of the file — and, optionally, a SHA-256 of the
/// whole file, header included, sealed into the metadata (<see cref="Write"/>'s <c>digestKey</c>).
/// TorchSharp.PyBridge 1.4.4 also reads and writes safetensors, but can neither write nor return
/// <c>__metadata__</c> and does not check the byte ranges, which is what SlmGen's checkpoints rely on.
/// </summary>
public static class SafetensorsFile
{
    /// <summary>The largest header accepted (the reference implementation's limit).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private const int DigestChars = 64;

    /// <summary>
    /// Writes tensors (moved to the CPU, made contiguous, dtype kept) and string metadata. With
    /// <paramref name="digestKey"/>, the metadata also holds, under that key, the SHA-256 of the whole file
    /// computed with the digest's own 64 characters as zeros, so that <see cref="VerifyDigest"/> refuses a
    /// change of any byte. The stream must be seekable when a digest is asked for.
    /// </summary>
    public static void Write(Stream stream, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null, string? digestKey = null)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<(string Name, string DType, long[] Shape, long Length)>();
        foreach (var (name, t) in tensors)
        {
            if (name == "__metadata__" || !names.Add(name))
            {
                throw new ArgumentException($"Tensor name '{name}' is reserved or used twice.", nameof(tensors));
            }

            entries.Add((name, DTypeOf(t.dtype), t.shape, t.numel() * t.ElementSize));
        }

        var meta = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            meta[key] = value;
        }

        if (digestKey is not null)
        {
            meta[digestKey] = new string('0', DigestChars);
        }

        var header = HeaderJson(entries, meta);
        var digestAt = digestKey is null ? -1 : DigestPosition(header, digestKey, new string('0', DigestChars));
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        var start = digestKey is null ? 0 : stream.Position;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        stream.Write(prefix);
        stream.Write(header);
        sha.AppendData(prefix);
        sha.AppendData(header);
        foreach (var (_, t) in tensors)
        {
            using var cpu = t.detach().cpu().contiguous();
            var bytes = cpu.bytes;
            stream.Write(bytes);
            sha.AppendData(bytes);
        }

        if (digestKey is not null)
        {
            var end = stream.Position;
            stream.Position = start + 8 + digestAt;
            stream.Write(Encoding.ASCII.GetBytes(Hex(sha.GetHashAndReset())));
            stream.Position = end;
        }
    }

    /// <summary>Reads and validates the header; <paramref name="path"/> names the file in messages.</summary>
    /// <exception cref="InvalidDataException">The file is not a well-formed safetensors file.</exception>
    public static SafetensorsHeader ReadHeader(Stream stream, string path)
    {
        var length = stream.Length;
        if (length < 8)
        {
            throw new InvalidDataException($"{path} is not a safetensors file: it has {length} bytes, fewer than the 8 of a header length.");
        }

        stream.Position = 0;
        var prefix = new byte[8];
        stream.ReadExactly(prefix);
        var n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n == 0 || n > MaxHeaderBytes || (long)n > length - 8)
        {
            throw new InvalidDataException($"{path} is not a readable safetensors file: its header length is {n:N0} bytes in a file of {length:N0} (truncated, damaged or another format).");
        }

        var raw = new byte[n];
        stream.ReadExactly(raw);
        var dataLength = length - 8 - (long)n;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<SafetensorsEntry>();
        try
        {
            using var doc = JsonDocument.Parse(raw);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}: the safetensors header is not a JSON object.");
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw new InvalidDataException($"{path}: the safetensors header names '{property.Name}' twice.");
                }

                if (property.Name == "__metadata__")
                {
                    ReadMetadata(property.Value, metadata, path);
                    continue;
                }

                entries.Add(ReadEntry(property, path));
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the safetensors header is not valid JSON ({e.Message}).", e);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: the safetensors header is not valid UTF-8 JSON ({e.Message}).", e);
        }

        long expected = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != expected)
            {
                throw new InvalidDataException($"{path}: tensor '{e.Name}' starts at byte {e.Begin:N0} of the data, expected {expected:N0} (the byte ranges must be contiguous).");
            }

            expected = e.End;
        }

        if (expected != dataLength)
        {
            throw new InvalidDataException($"{path} is truncated or padded: its tensors cover {expected:N0} bytes, the file holds {dataLength:N0} after the header.");
        }

        return new SafetensorsHeader(path, raw, metadata, entries);
    }

    /// <summary>Reads the tensors (CPU), all or those <paramref name="keep"/> accepts, after <see cref="ReadHeader"/>.</summary>
    public static Dictionary<string, Tensor> ReadTensors(Stream stream, SafetensorsHeader header, Func<string, bool>? keep = null)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var e in header.Entries)
            {
                if (keep is not null && !keep(e.Name))
                {
                    continue;
                }

                var t = empty(e.Shape, dtype: ScalarTypeOf(e.DType, header.Path));
                stream.Position = header.DataStart + e.Begin;
                stream.ReadExactly(t.bytes);
                result[e.Name] = t;
            }
        }
        catch
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }

            throw;
        }

        return result;
    }

    /// <summary>
    /// Checks the SHA-256 sealed under <paramref name="digestKey"/> against the whole file.
    /// </summary>
    /// <exception cref="InvalidDataException">The digest is missing or malformed, or any byte of the file changed.</exception>
    public static void VerifyDigest(Stream stream, SafetensorsHeader header, string digestKey)
    {
        if (!header.Metadata.TryGetValue(digestKey, out var digest) || digest.Length != DigestChars || !digest.All(Uri.IsHexDigit) || digest.Any(char.IsUpper))
        {
            throw new InvalidDataException($"{header.Path} is damaged: its metadata has no well-formed '{digestKey}' (a SHA-256 of the whole file).");
        }

        int at;
        try
        {
            at = DigestPosition(header.Raw, digestKey, digest);
        }
        catch (InvalidOperationException)
        {
            throw new InvalidDataException($"{header.Path} is damaged: its header was rewritten (the digest is not where SlmGen wrote it).");
        }

        var sealedHeader = (byte[])header.Raw.Clone();
        Encoding.ASCII.GetBytes(new string('0', DigestChars)).CopyTo(sealedHeader, at);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Raw.Length);
        sha.AppendData(prefix);
        sha.AppendData(sealedHeader);
        stream.Position = header.DataStart;
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            sha.AppendData(buffer, 0, read);
        }

        var actual = Hex(sha.GetHashAndReset());
        if (actual != digest)
        {
            throw new InvalidDataException($"{header.Path} is damaged: its contents hash to {actual}, the file says {digest}. It was changed or corrupted after it was written and is refused.");
        }
    }

    /// <summary>The safetensors dtype of a torch scalar type.</summary>
    public static string DTypeOf(ScalarType type) => type switch
    {
        ScalarType.Float64 => "F64",
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors has no dtype for {type}."),
    };

    private static ScalarType ScalarTypeOf(string dtype, string path) => dtype switch
    {
        "F64" => ScalarType.Float64,
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"{path}: dtype '{dtype}' is not supported."),
    };

    private static int ElementSize(string dtype, string path) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "F16" or "BF16" or "I16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw new InvalidDataException($"{path}: dtype '{dtype}' is not supported."),
    };

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: the safetensors __metadata__ is not an object of strings.");
        }

        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new InvalidDataException($"{path}: the safetensors __metadata__ entry '{item.Name}' is not a string or is repeated.");
            }
        }
    }

    private static SafetensorsEntry ReadEntry(JsonProperty property, string path)
    {
        var v = property.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw new InvalidDataException($"{path}: the header entry of tensor '{property.Name}' lacks dtype, shape or data_offsets.");
        }

        var dims = new long[shape.GetArrayLength()];
        long elements = 1;
        var i = 0;
        foreach (var d in shape.EnumerateArray())
        {
            if (!d.TryGetInt64(out dims[i]) || dims[i] < 0)
            {
                throw new InvalidDataException($"{path}: tensor '{property.Name}' has a bad shape.");
            }

            elements = dims[i] == 0 || elements <= long.MaxValue / 8 / dims[i] ? elements * dims[i] : throw new InvalidDataException($"{path}: tensor '{property.Name}' has a shape of more elements than any file holds.");
            i++;
        }

        if (!offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
        {
            throw new InvalidDataException($"{path}: tensor '{property.Name}' has bad data_offsets.");
        }

        var type = dtype.GetString()!;
        if (elements * ElementSize(type, path) != end - begin)
        {
            throw new InvalidDataException($"{path}: tensor '{property.Name}' spans {end - begin:N0} bytes, but its shape [{string.Join(", ", dims)}] of {type} needs {elements * ElementSize(type, path):N0}.");
        }

        return new SafetensorsEntry(property.Name, type, dims, begin, end);
    }

    private static byte[] HeaderJson(List<(string Name, string DType, long[] Shape, long Length)> entries, SortedDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    w.WriteString(key, value);
                }

                w.WriteEndObject();
            }

            long offset = 0;
            foreach (var (name, dtype, shape, length) in entries)
            {
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype);
                w.WriteStartArray("shape");
                foreach (var d in shape)
                {
                    w.WriteNumberValue(d);
                }

                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + length);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += length;
            }

            w.WriteEndObject();
        }

        // Padded with spaces to a multiple of 8 bytes, so that the tensors are aligned (as the reference writer does).
        var json = buffer.ToArray();
        var padded = (json.Length + 7) / 8 * 8;
        var result = new byte[padded];
        json.CopyTo(result, 0);
        result.AsSpan(json.Length).Fill((byte)' ');
        return result;
    }

    /// <summary>Where the digest's characters start in the header: exactly one <c>"key":"digest"</c> pair may hold it.</summary>
    private static int DigestPosition(byte[] header, string key, string digest)
    {
        var needle = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(key) + ":\"" + digest + "\"");
        var span = header.AsSpan();
        var first = span.IndexOf(needle);
        if (first < 0 || span[(first + 1)..].IndexOf(needle) >= 0)
        {
            throw new InvalidOperationException($"The digest '{key}' is not in the header exactly once.");
        }

        return first + needle.Length - 1 - DigestChars;
    }

    private static string Hex(byte[] hash) => Convert.ToHexString(hash).ToLowerInvariant();
}
