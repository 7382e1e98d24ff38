using System;
using System.IO;

namespace SlmGen.IO;

/// <summary>
/// Writes a file so that a crash at any point leaves either the old file or the new one, never a torn one. The
/// temporary files a killed process left behind for the same file are removed by the next write; those of a writer
/// that is still running (another process writing the same cache file at the same time) are left alone.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes through a temporary file in the same folder, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        RemoveStale(dir, Path.GetFileName(full));
        var temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>The temporary-file pattern of <paramref name="fileName"/>: <c>.NAME.PID.XXXXXXXX.tmp</c> (older writers: <c>.NAME.XXXXXXXX.tmp</c>).</summary>
    public static string TemporaryPattern(string fileName) => "." + fileName + ".*.tmp";

    private static void RemoveStale(string dir, string fileName)
    {
        foreach (var stale in Directory.EnumerateFiles(dir, TemporaryPattern(fileName)))
        {
            if (WriterIsRunning(Path.GetFileName(stale)[(fileName.Length + 2)..^4]))
            {
                continue;
            }

            try
            {
                File.Delete(stale);
            }
            catch (IOException)
            {
                // Another writer's live temporary file on a system that locks open files: it is its to remove.
            }
        }
    }

    /// <summary>Whether the temporary file's writer (the PID in "PID.XXXXXXXX") is a running process.</summary>
    private static bool WriterIsRunning(string middle)
    {
        var dot = middle.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !int.TryParse(middle[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid))
        {
            return false; // no writer named: left by an earlier version, whose writer is long gone
        }

        if (pid == Environment.ProcessId)
        {
            return true; // another thread of this process is writing it
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
