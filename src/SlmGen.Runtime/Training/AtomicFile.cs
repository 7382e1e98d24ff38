using System;
using System.IO;

namespace SlmGen.Training;

/// <summary>
/// Writes a file so that a crash at any point leaves either the old file or the new one, never a torn one. The
/// temporary files a killed process left behind for the same file are removed by the next write.
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
        var temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
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

    /// <summary>The temporary-file pattern of <paramref name="fileName"/>: <c>.NAME.XXXXXXXX.tmp</c>.</summary>
    public static string TemporaryPattern(string fileName) => "." + fileName + ".*.tmp";

    private static void RemoveStale(string dir, string fileName)
    {
        foreach (var stale in Directory.EnumerateFiles(dir, TemporaryPattern(fileName)))
        {
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
}
