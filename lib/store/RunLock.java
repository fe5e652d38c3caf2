package store;

import base.Log;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/**
 * One t3 run at a time over a state dir: save, restore and reconcile run by hand take the same
 * lock as the units' runs ({@code <state>/.lock}, a POSIX record lock, so it never deadlocks
 * with the units' outer flock(1) on another file). The holder writes its pid into it, so a run
 * that cannot get it says who has it.
 */
public final class RunLock implements AutoCloseable {
    /** Another run holds the lock past the wait: a bad moment, not a bad argument. */
    public static final class Busy extends IOException {
        Busy(String message) { super(message); }
    }

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes the lock of {@code store}'s dir, waiting at most {@code wait}. */
    public static RunLock acquire(StateStore store, Duration wait) throws IOException, InterruptedException {
        Path file = store.lockFile();
        FileChannel ch = FileChannel.open(file, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(StateStore.FILE_MODE));
        long end = System.nanoTime() + wait.toNanos();
        boolean said = false;
        while (true) {
            FileLock l = ch.tryLock();
            if (l != null) {
                ch.truncate(0).write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
                return new RunLock(ch, l);
            }
            if (System.nanoTime() > end) {
                String holder;
                try {
                    holder = new String(StateStore.readOwn(file, 64), StandardCharsets.UTF_8).strip(); // a pid and a newline
                } catch (IOException e) {
                    holder = "";
                }
                ch.close();
                throw new Busy("another t3-tmux run (pid " + (holder.isEmpty() ? "?" : holder) + ") holds " + file + " after waiting "
                        + wait.toSeconds() + " s; try again when it has finished");
            }
            if (!said) Log.info("waiting for another t3-tmux run to finish (%s)", file);
            said = true;
            Thread.sleep(100);
        }
    }

    @Override
    public void close() throws IOException {
        lock.release();
        channel.close();
    }
}
