package base;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Replacing a file so that a reader (or a crash) sees the old one or the new one, never half:
 * a temp file beside it, fsync, rename over, fsync the directory. Temp files are named
 * {@code .<name>.<random>.tmp}, so what a killed run left behind can be found and removed.
 */
public final class AtomicFile {
    private static final String TEMP_GLOB = ".*.tmp";

    private AtomicFile() {}

    public static void write(Path target, byte[] data, Set<PosixFilePermission> mode) throws IOException {
        try {
            replace(target, data, mode);
        } catch (IOException e) {
            // A write's own error ("No space left on device") names no file, a temp file's names the
            // temp file: the log must name the file that was not replaced (and is intact).
            if (e instanceof java.nio.file.FileSystemException f && target.toString().equals(f.getFile())) throw e;
            String why = e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
            java.nio.file.FileSystemException named = new java.nio.file.FileSystemException(target.toString(), null, why);
            named.initCause(e);
            throw named;
        }
    }

    private static void replace(Path target, byte[] data, Set<PosixFilePermission> mode) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp", PosixFilePermissions.asFileAttribute(mode));
        try {
            // createTempFile's mode is filtered by the umask: set it outright.
            Files.setPosixFilePermissions(tmp, mode);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) ch.write(buf);
                ch.force(true);
            }
            rename(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Points {@code link} at {@code target} (a relative path, as written), replacing what was there. */
    public static void symlink(Path link, Path target) throws IOException {
        Path dir = link.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + link.getFileName() + "." + Long.toUnsignedString(System.nanoTime(), 36) + ".tmp");
        try {
            Files.createSymbolicLink(tmp, target);
            rename(tmp, link);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Removes temp files a killed run left in {@code dir}: only those older than {@code age}, so a
     * run that is writing right now (an operator's, beside the timer's) keeps its own.
     */
    public static int removeLeftovers(Path dir, Duration age) throws IOException {
        int removed = 0;
        FileTime before = FileTime.from(Instant.now().minus(age));
        try (var ds = Files.newDirectoryStream(dir, TEMP_GLOB)) {
            for (Path p : ds) {
                if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).compareTo(before) < 0 && Files.deleteIfExists(p)) removed++;
            }
        }
        return removed;
    }

    private static void rename(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename atomically within " + target.getParent(), e);
        }
        try (FileChannel d = FileChannel.open(target.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
