using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>
/// SlmGen's first checkpoint format (<c>slmgen-checkpoint/1</c>: a magic line, a JSON header, raw fp32 flat
/// buffers, a SHA-256 of the tensor bytes only). It is no longer written or resumed from, because a change in
/// its header went unnoticed; <see cref="Checkpoint.ConvertLegacy"/> reads one (its tensor checksum checked)
/// and writes it as a safetensors checkpoint.
/// </summary>
internal static class LegacyCheckpoint
{
    public const string FormatTag = "slmgen-checkpoint/1";

    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("SLMGENCK");

    public sealed record Slot(string Name, long Offset, long[] Shape);

    public sealed record Entry(string Name, long Offset, long Length);

    public sealed record Header
    {
        public string Format { get; init; } = "";
        public string Model { get; init; } = "";
        public string Fingerprint { get; init; } = "";
        public string Dataset { get; init; } = "";
        public long Step { get; init; }
        public double BestValidation { get; init; } = double.NaN;
        public long BestStep { get; init; }
        public int EvalsSinceBest { get; init; }
        public ulong SamplerRng { get; init; }
        public ulong SamplerEpochSeed { get; init; }
        public long SamplerPosition { get; init; }
        public bool SamplerInEpoch { get; init; }
        public string TorchRngState { get; init; } = "";
        public List<Slot> Parameters { get; init; } = new();
        public List<Entry> Tensors { get; init; } = new();
        public string PayloadSha256 { get; init; } = "";
    }

    /// <summary>Whether the file starts with the old format's magic.</summary>
    public static bool Is(string path)
    {
        using var stream = File.OpenRead(path);
        var magic = new byte[Magic.Length];
        return stream.Read(magic) == magic.Length && magic.AsSpan().SequenceEqual(Magic);
    }

    /// <summary>Reads the header and the flat fp32 tensors, checking the tensor checksum.</summary>
    public static (Header Header, Dictionary<string, Tensor> Tensors) Load(string path)
    {
        using var stream = File.OpenRead(path);
        stream.Position = Magic.Length;
        var lengthBytes = new byte[8];
        stream.ReadExactly(lengthBytes);
        var length = BitConverter.ToInt64(lengthBytes);
        if (length <= 0 || length > 64 << 20 || stream.Position + length > stream.Length)
        {
            throw new InvalidDataException($"Old-format checkpoint {path} is truncated (its header length is {length}).");
        }

        var json = new byte[length];
        stream.ReadExactly(json);
        var header = JsonSerializer.Deserialize<Header>(json, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals })
                     ?? throw new InvalidDataException($"Old-format checkpoint {path} has an empty header.");
        if (header.Format != FormatTag)
        {
            throw new InvalidDataException($"{path} has format '{header.Format}', expected '{FormatTag}'.");
        }

        var total = header.Tensors.Sum(t => t.Length * 4);
        if (stream.Length - stream.Position != total)
        {
            throw new InvalidDataException($"Old-format checkpoint {path} is truncated or padded.");
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var result = new Dictionary<string, Tensor>();
        foreach (var entry in header.Tensors)
        {
            var t = empty(entry.Length, dtype: ScalarType.Float32);
            stream.ReadExactly(t.bytes);
            sha.AppendData(t.bytes);
            result[entry.Name] = t;
        }

        if (Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant() != header.PayloadSha256)
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }

            throw new InvalidDataException($"Old-format checkpoint {path} is corrupted: its tensors do not match their checksum.");
        }

        return (header, result);
    }
}
