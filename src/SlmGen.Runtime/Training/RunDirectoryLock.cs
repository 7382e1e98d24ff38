using System;
using System.Globalization;
using System.IO;
using System.Text;

namespace SlmGen.Training;

/// <summary>
/// One writer per run directory: a trainer holds <c>run.lock</c> in its run directory open with an exclusive lock
/// (an advisory <c>flock</c> on Unix, a sharing lock on Windows) for as long as it lives. A second trainer on the same
/// directory — another process, or the same one — is refused with the holder's process id, instead of both
/// interleaving metrics and overwriting each other's checkpoints. The operating system releases the lock when the
/// holder ends, however it ends (SIGKILL included), so a stale lock never blocks a resume.
/// </summary>
public sealed class RunDirectoryLock : IDisposable
{
    /// <summary>The lock file's name in the run directory.</summary>
    public const string FileName = "run.lock";

    private readonly FileStream stream;

    private RunDirectoryLock(FileStream stream) => this.stream = stream;

    /// <summary>Takes the run directory (created if needed).</summary>
    /// <exception cref="IOException">Another trainer holds it.</exception>
    public static RunDirectoryLock Take(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"{directory} is in use by another training run (its process id is in {path}): a run directory has one writer. Wait for that run, stop it, or give this one another run directory.", e);
        }

        var holder = Encoding.UTF8.GetBytes($"pid {Environment.ProcessId} since {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC\n");
        stream.SetLength(0);
        stream.Write(holder);
        stream.Flush();
        return new RunDirectoryLock(stream);
    }

    /// <inheritdoc />
    public void Dispose() => stream.Dispose();
}
