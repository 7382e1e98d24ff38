using System;
using System.IO;
using System.IO.Compression;
using SharpCompress.Compressors.LZMA;

namespace SlmGen.Artifacts;

/// <summary>
/// Lossless compression of a whole artifact with maintained libraries: Zstandard (ZstdSharp.Port, level 19), LZMA in
/// the lzip container (SharpCompress; lzip carries a CRC-32 and the size), Brotli (the base class library, quality 11)
/// and zlib (the base class library, smallest size). Reading finds the format from the file's first bytes (zstd's,
/// lzip's and zlib's magic numbers; a safetensors header; Brotli, which has none, last) and never decompresses more
/// than <see cref="MaxBytes"/>.
/// </summary>
public static class ArtifactCompressor
{
    /// <summary>The most bytes an artifact may decompress to (a larger claim is refused, not allocated).</summary>
    public const long MaxBytes = 2_000_000_000;

    /// <summary>The compressed form of <paramref name="data"/>.</summary>
    public static byte[] Compress(byte[] data, ArtifactCompression compression)
    {
        if (compression == ArtifactCompression.None)
        {
            return data;
        }

        using var output = new MemoryStream();
        switch (compression)
        {
            case ArtifactCompression.Zstd:
                using (var compressor = new ZstdSharp.Compressor(19))
                {
                    return compressor.Wrap(data).ToArray();
                }

            case ArtifactCompression.Lzma:
                using (var lzip = LZipStream.Create(output, SharpCompress.Compressors.CompressionMode.Compress, leaveOpen: true))
                {
                    lzip.Write(data, 0, data.Length);
                }

                break;
            case ArtifactCompression.Brotli:
                using (var brotli = new BrotliStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
                {
                    brotli.Write(data, 0, data.Length);
                }

                break;
            case ArtifactCompression.Deflate:
                using (var zlib = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
                {
                    zlib.Write(data, 0, data.Length);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(compression), compression, "none, zstd, lzma, brotli or deflate");
        }

        return output.ToArray();
    }

    /// <summary>The compression a file's first bytes show (None for a safetensors file; Brotli when nothing else matches).</summary>
    public static ArtifactCompression Detect(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 4 && head[0] == 0x28 && head[1] == 0xB5 && head[2] == 0x2F && head[3] == 0xFD)
        {
            return ArtifactCompression.Zstd;
        }

        if (head.Length >= 4 && head[0] == (byte)'L' && head[1] == (byte)'Z' && head[2] == (byte)'I' && head[3] == (byte)'P')
        {
            return ArtifactCompression.Lzma;
        }

        if (head.Length >= 9 && head[8] == (byte)'{' && BitConverter.ToUInt64(head[..8]) < 100_000_000)
        {
            return ArtifactCompression.None;
        }

        if (head.Length >= 2 && head[0] == 0x78 && ((head[0] << 8) | head[1]) % 31 == 0)
        {
            return ArtifactCompression.Deflate;
        }

        return ArtifactCompression.Brotli;
    }

    /// <summary>The artifact inside <paramref name="file"/> (its bytes, decompressed), or <see cref="InvalidDataException"/> naming <paramref name="path"/>.</summary>
    public static (byte[] Data, ArtifactCompression Compression) Decompress(byte[] file, string path)
    {
        var compression = Detect(file);
        if (compression == ArtifactCompression.None)
        {
            return (file, compression);
        }

        try
        {
            using var input = new MemoryStream(file, writable: false);
            using Stream decoder = compression switch
            {
                ArtifactCompression.Zstd => new ZstdSharp.DecompressionStream(input),
                ArtifactCompression.Lzma => LZipStream.Create(input, SharpCompress.Compressors.CompressionMode.Decompress, leaveOpen: false),
                ArtifactCompression.Deflate => new ZLibStream(input, System.IO.Compression.CompressionMode.Decompress),
                _ => new BrotliStream(input, System.IO.Compression.CompressionMode.Decompress),
            };
            using var output = new MemoryStream();
            var buffer = new byte[1 << 16];
            int read;
            while ((read = decoder.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (output.Length + read > MaxBytes)
                {
                    throw new InvalidDataException($"{path} decompresses to more than {MaxBytes:N0} bytes; refused.");
                }

                output.Write(buffer, 0, read);
            }

            return (output.ToArray(), compression);
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path} is not an SlmGen artifact: it is neither a safetensors file nor a readable {ArtifactPlan.Name(compression)} stream ({e.GetType().Name}: {e.Message}).", e);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path} is not an SlmGen artifact: its {ArtifactPlan.Name(compression)} stream is damaged ({e.Message}).", e);
        }
    }
}
