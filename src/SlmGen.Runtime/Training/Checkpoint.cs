using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace SlmGen.Training;

/// <summary>A flat fp32 tensor as a checkpoint stores it.</summary>
public sealed record CheckpointTensor(string Name, long Offset, long Length);

/// <summary>Where one parameter lives in the flat master buffer.</summary>
public sealed record ParameterSlot(string Name, long Offset, long[] Shape);

/// <summary>Everything in a checkpoint besides the tensor bytes.</summary>
public sealed record CheckpointHeader
{
    /// <summary>The format tag.</summary>
    public string Format { get; init; } = Checkpoint.FormatTag;

    /// <summary>The model class.</summary>
    public string Model { get; init; } = "";

    /// <summary>The model's spec fingerprint: loading into another architecture is refused.</summary>
    public string Fingerprint { get; init; } = "";

    /// <summary>The data set it was trained on (name and vocabulary size).</summary>
    public string Dataset { get; init; } = "";

    /// <summary>Completed optimizer steps.</summary>
    public long Step { get; init; }

    /// <summary>Best validation NLL so far (NaN if none).</summary>
    public double BestValidation { get; init; } = double.NaN;

    /// <summary>Step of the best validation NLL.</summary>
    public long BestStep { get; init; }

    /// <summary>Evaluations since the best one (early stopping).</summary>
    public int EvalsSinceBest { get; init; }

    /// <summary>Batch sampler state.</summary>
    public ulong SamplerRng { get; init; }

    /// <summary>Shuffled-epoch seed.</summary>
    public ulong SamplerEpochSeed { get; init; }

    /// <summary>Position in the shuffled epoch.</summary>
    public long SamplerPosition { get; init; }

    /// <summary>Whether a shuffled epoch is under way.</summary>
    public bool SamplerInEpoch { get; init; }

    /// <summary>torch's CPU generator state (dropout), base64.</summary>
    public string TorchRngState { get; init; } = "";

    /// <summary>The parameters' places in the master buffer.</summary>
    public List<ParameterSlot> Parameters { get; init; } = new();

    /// <summary>The stored tensors (master, m, v): fp32, little-endian, after the header.</summary>
    public List<CheckpointTensor> Tensors { get; init; } = new();

    /// <summary>SHA-256 of the tensor bytes: a torn or corrupted file is detected at load.</summary>
    public string PayloadSha256 { get; init; } = "";
}

/// <summary>
/// The checkpoint file: a magic line, the header as JSON, then raw fp32 tensors (master weights, Adam
/// moments). Written atomically (<see cref="AtomicFile"/>); verified by checksum and fingerprint at load.
/// </summary>
public static class Checkpoint
{
    /// <summary>Format tag in the header.</summary>
    public const string FormatTag = "slmgen-checkpoint/1";

    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("SLMGENCK");

    /// <summary>Writes a checkpoint atomically.</summary>
    public static void Save(string path, CheckpointHeader header, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        var blobs = tensors.Select(t => (t.Name, Bytes: ToBytes(t.Tensor))).ToList();
        long offset = 0;
        var entries = new List<CheckpointTensor>();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, bytes) in blobs)
        {
            entries.Add(new CheckpointTensor(name, offset, bytes.Length / 4));
            offset += bytes.Length;
            sha.AppendData(bytes);
        }

        var full = header with { Tensors = entries, PayloadSha256 = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant() };
        var json = JsonSerializer.SerializeToUtf8Bytes(full, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.Write(path, stream =>
        {
            stream.Write(Magic);
            stream.Write(BitConverter.GetBytes((long)json.Length));
            stream.Write(json);
            foreach (var (_, bytes) in blobs)
            {
                stream.Write(bytes);
            }
        });
    }

    /// <summary>Reads the header of a checkpoint (cheap: no tensors).</summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path);
    }

    /// <summary>Reads a checkpoint, verifying its checksum; the tensors are CPU fp32.</summary>
    /// <exception cref="InvalidDataException">The file is not a checkpoint, or it is torn or corrupted.</exception>
    public static (CheckpointHeader Header, Dictionary<string, Tensor> Tensors) Load(string path)
    {
        using var stream = File.OpenRead(path);
        var header = ReadHeader(stream, path);
        var payloadStart = stream.Position;
        var total = header.Tensors.Sum(t => t.Length * 4);
        if (stream.Length - payloadStart != total)
        {
            throw new InvalidDataException($"Checkpoint {path} is truncated or padded: {stream.Length - payloadStart:N0} bytes of tensors, expected {total:N0}.");
        }

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var result = new Dictionary<string, Tensor>();
        foreach (var entry in header.Tensors)
        {
            var bytes = new byte[entry.Length * 4];
            stream.ReadExactly(bytes);
            sha.AppendData(bytes);
            var t = empty(entry.Length, dtype: ScalarType.Float32);
            bytes.AsSpan().CopyTo(t.bytes);
            result[entry.Name] = t;
        }

        var actual = Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
        if (actual != header.PayloadSha256)
        {
            foreach (var t in result.Values)
            {
                t.Dispose();
            }

            throw new InvalidDataException($"Checkpoint {path} is corrupted: its tensors hash to {actual}, the header says {header.PayloadSha256}.");
        }

        return (header, result);
    }

    /// <summary>Refuses a checkpoint of another architecture with a message that names both.</summary>
    public static void EnsureCompatible(CheckpointHeader header, SlmModel model, string path)
    {
        if (header.Fingerprint != model.Fingerprint)
        {
            throw new InvalidOperationException(
                $"Checkpoint {path} holds a '{header.Model}' (architecture {header.Fingerprint}); it cannot be loaded into '{model.GetName()}' (architecture {model.Fingerprint}). " +
                "Load it into the model it was trained with.");
        }
    }

    private static CheckpointHeader ReadHeader(Stream stream, string path)
    {
        var magic = new byte[Magic.Length];
        if (stream.Read(magic) != magic.Length || !magic.AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not an SlmGen checkpoint.");
        }

        var lengthBytes = new byte[8];
        stream.ReadExactly(lengthBytes);
        var length = BitConverter.ToInt64(lengthBytes);
        if (length <= 0 || length > 64 << 20 || stream.Position + length > stream.Length)
        {
            throw new InvalidDataException($"Checkpoint {path} is truncated (its header length is {length}).");
        }

        var json = new byte[length];
        stream.ReadExactly(json);
        var header = JsonSerializer.Deserialize<CheckpointHeader>(json) ?? throw new InvalidDataException($"Checkpoint {path} has an empty header.");
        if (header.Format != FormatTag)
        {
            throw new InvalidDataException($"Checkpoint {path} has format '{header.Format}', expected '{FormatTag}'.");
        }

        return header;
    }

    private static byte[] ToBytes(Tensor t)
    {
        using var cpu = t.detach().to(ScalarType.Float32).cpu().contiguous();
        return cpu.bytes.ToArray();
    }
}
