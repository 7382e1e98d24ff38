using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace SlmGen.IO;

/// <summary>
/// Reading a file a user named: only a regular file (a FIFO would block forever, <c>/dev/zero</c> or
/// <c>/dev/urandom</c> would fill the memory), and only up to a limit stated per kind of file. Every refusal is an
/// <see cref="InvalidDataException"/> or <see cref="FileNotFoundException"/> whose message names the file and the rule.
/// </summary>
public static class InputFile
{
    /// <summary>Limit of a spec, template or run configuration (a 20,000-block YAML spec is a few MB).</summary>
    public const long SpecLimit = 256L << 20;

    /// <summary>Limit of a text corpus read whole into memory (a .NET string holds about 1 G characters).</summary>
    public const long TextLimit = 1L << 30;

    /// <summary>Limit of a tokenizer's vocabulary or merges file.</summary>
    public const long TokenizerLimit = 512L << 20;

    /// <summary>Throws unless <paramref name="path"/> is an existing regular file (symbolic links are followed).</summary>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="InvalidDataException">A directory, a device, a FIFO or a socket.</exception>
    public static void EnsureRegular(string path, string what)
    {
        if (Directory.Exists(path))
        {
            throw new InvalidDataException($"{path}: the {what} is a directory, not a file.");
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such {what} file.", path);
        }

        if (Kind(path) is { } kind && kind != "regular file")
        {
            throw new InvalidDataException($"{path}: the {what} is a {kind}, not a regular file; SlmGen reads only regular files.");
        }
    }

    /// <summary>Opens a regular file of at most <paramref name="limit"/> bytes for reading.</summary>
    public static FileStream OpenRead(string path, string what, long limit = long.MaxValue)
    {
        EnsureRegular(path, what);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (stream.Length > limit)
        {
            var length = stream.Length;
            stream.Dispose();
            throw new InvalidDataException($"{path}: the {what} is {length:N0} bytes, more than the {limit:N0} a {what} may have.");
        }

        return stream;
    }

    /// <summary>The whole of a regular file of at most <paramref name="limit"/> bytes.</summary>
    public static byte[] ReadAllBytes(string path, string what, long limit)
    {
        using var stream = OpenRead(path, what, limit);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>The whole of a regular UTF-8 text file of at most <paramref name="limit"/> bytes (a byte-order mark is dropped).</summary>
    public static string ReadAllText(string path, string what, long limit)
    {
        using var stream = OpenRead(path, what, limit);
        using var reader = new StreamReader(stream, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>"regular file", "directory", "FIFO", "character device", … from statx(2); null where the type cannot be asked.</summary>
    private static string? Kind(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            // struct statx's layout is the same on every Linux architecture: stx_mode is the u16 at byte 28.
            var buffer = new byte[256];
            if (statx(-100 /* AT_FDCWD */, path, 0, 1 /* STATX_TYPE */, buffer) != 0)
            {
                return null;
            }

            return (BitConverter.ToUInt16(buffer, 28) & 0xF000) switch
            {
                0x8000 => "regular file",
                0x4000 => "directory",
                0x1000 => "FIFO (named pipe)",
                0x2000 => "character device",
                0x6000 => "block device",
                0xC000 => "socket",
                _ => "special file",
            };
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
