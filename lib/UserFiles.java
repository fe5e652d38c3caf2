import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reading a user's files as root, treating them as hostile: the file must be a regular file
 * (not a symlink, FIFO or device) owned by that user, inside the directory we expect, and we
 * read at most a bounded prefix of it.
 */
public final class UserFiles {
    private static final Duration READ_DEADLINE = Duration.ofSeconds(2);
    /** Daemon threads: one stuck on a FIFO never keeps the JVM from exiting. */
    private static final ExecutorService READER = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "t3-user-file-reader");
        t.setDaemon(true);
        return t;
    });

    private UserFiles() {}

    /** The directory's real path, when it is a directory the user owns; else empty (not trusted). */
    public static Optional<Path> trustedDir(Path dir, int uid) {
        try {
            Path real = dir.toRealPath();
            PosixFileAttributes a = Files.readAttributes(real, PosixFileAttributes.class);
            if (!a.isDirectory() || owner(real) != uid) return Optional.empty();
            return Optional.of(real);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Up to {@code maxBytes} of {@code file} as UTF-8, only when it is a regular file owned by
     * {@code uid} whose real location is inside {@code within} (a trusted real directory).
     */
    public static Optional<String> readPrefix(Path file, int uid, Path within, int maxBytes) {
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || owner(file) != uid) return Optional.empty();
            if (!file.getParent().toRealPath().startsWith(within)) return Optional.empty();
        } catch (IOException | SecurityException e) {
            return Optional.empty();
        }
        return readBounded(file, maxBytes);
    }

    /**
     * Reads in a thread of its own with a deadline: a FIFO swapped in after the checks above
     * would block open(2) forever, and one user must not hang everyone's save.
     */
    static Optional<String> readBounded(Path file, int maxBytes) {
        Future<String> read = READER.submit(() -> {
            try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
                 InputStream in = Channels.newInputStream(ch)) {
                return new String(in.readNBytes(maxBytes), StandardCharsets.UTF_8);
            }
        });
        try {
            return Optional.of(read.get(READ_DEADLINE.toMillis(), TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            read.cancel(true);
            Log.warn("reading %s took over %d ms (a FIFO?); ignored", file, READ_DEADLINE.toMillis());
            return Optional.empty();
        } catch (ExecutionException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Whether {@code file} is a regular file (no symlink) owned by {@code uid}. */
    public static boolean isOwnedRegularFile(Path file, int uid) {
        try {
            return Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) && owner(file) == uid;
        } catch (IOException e) {
            return false;
        }
    }

    static int owner(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }
}
