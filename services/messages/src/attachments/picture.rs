//! What an uploaded image is: its type sniffed from its first bytes, and for the types shown
//! inline its upright size and a thumbnail. Decoding is pure Rust (the `image` crate with PNG,
//! JPEG, GIF and WebP only), synchronous, and bounded: the size an image declares is checked
//! before a single pixel is decoded, so a small file that claims billions of pixels (a
//! decompression bomb) costs nothing.

use image::codecs::jpeg::JpegEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

/// Longer side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// Most pixels of an image that is decoded (about a 48-megapixel photo); larger ones are refused.
pub const MAX_PIXELS: u64 = 50_000_000;
/// Most bytes the decoded pixels may take (50 megapixels of 8-bit RGBA, plus room for the
/// decoder's own buffers): a 16-bit image of the same size is refused.
const MAX_DECODED_BYTES: u64 = 256 * 1024 * 1024;
/// Quality of JPEG thumbnails.
const JPEG_QUALITY: u8 = 80;
/// The type of files whose type is unknown, and of everything served as a download.
pub const NEUTRAL_TYPE: &str = "application/octet-stream";

/// The content type of a file from its first bytes (at least the first few KiB), or
/// [`NEUTRAL_TYPE`] when they say nothing known.
pub fn sniff(head: &[u8]) -> &'static str {
    infer::get(head).map_or(NEUTRAL_TYPE, |kind| kind.mime_type())
}

/// The image format of a type shown inline (PNG, JPEG, GIF, WebP); every other type is only
/// ever downloaded.
pub fn inline_format(content_type: &str) -> Option<ImageFormat> {
    match content_type {
        "image/png" => Some(ImageFormat::Png),
        "image/jpeg" => Some(ImageFormat::Jpeg),
        "image/gif" => Some(ImageFormat::Gif),
        "image/webp" => Some(ImageFormat::WebP),
        _ => None,
    }
}

/// A decoded image: its upright size and its thumbnail.
#[derive(Debug)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
    /// `image/jpeg` (opaque images) or `image/webp` (lossless, when transparency is used).
    pub thumbnail_type: String,
}

/// Why an image is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Unusable {
    #[error("the image is larger than {} megapixels", MAX_PIXELS / 1_000_000)]
    TooLarge,
    #[error("the image could not be read; it may be damaged")]
    Unreadable,
}

/// Decodes the image in `path` (of a type [`inline_format`] knows) and makes its thumbnail.
pub fn inspect(path: &Path, format: ImageFormat) -> Result<Picture, Unusable> {
    let file = File::open(path).map_err(|_| Unusable::Unreadable)?;
    let mut reader = ImageReader::with_format(BufReader::new(file), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refusal)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS || decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(Unusable::TooLarge);
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut small = shrink(DynamicImage::from_decoder(decoder).map_err(refusal)?);
    // Only the thumbnail is turned upright: turning the full picture would take a second
    // full-size copy, twice the memory decoding is held to.
    small.apply_orientation(orientation);
    let (width, height) = match orientation {
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH => {
            (height, width)
        }
        _ => (width, height),
    };
    let (thumbnail, thumbnail_type) = encode_thumbnail(small).map_err(|_| Unusable::Unreadable)?;
    Ok(Picture {
        width,
        height,
        thumbnail,
        thumbnail_type: thumbnail_type.to_owned(),
    })
}

/// The picture at most [`THUMBNAIL_SIDE`] on its longer side; the full one is freed on return.
fn shrink(full: DynamicImage) -> DynamicImage {
    // `thumbnail` would also enlarge a small picture: that one is its own thumbnail.
    if full.width().max(full.height()) > THUMBNAIL_SIDE {
        full.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    } else {
        full
    }
}

fn refusal(e: ImageError) -> Unusable {
    match e {
        ImageError::Limits(_) => Unusable::TooLarge,
        _ => Unusable::Unreadable,
    }
}

/// JPEG for opaque images; lossless WebP when some pixel is see-through (JPEG would paint
/// transparent parts black).
fn encode_thumbnail(small: DynamicImage) -> Result<(Vec<u8>, &'static str), ImageError> {
    let mut out = Vec::new();
    let see_through = small.color().has_alpha() && small.to_rgba8().pixels().any(|p| p.0[3] < u8::MAX);
    if see_through {
        let rgba = small.to_rgba8();
        WebPEncoder::new_lossless(&mut out).encode(
            rgba.as_raw(),
            rgba.width(),
            rgba.height(),
            image::ExtendedColorType::Rgba8,
        )?;
        Ok((out, "image/webp"))
    } else {
        let rgb = small.to_rgb8();
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode_image(&rgb)?;
        Ok((out, "image/jpeg"))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gochat_kit::testing::bomb_png;
    use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

    /// A PNG of `width` × `height` pixels.
    pub fn png(width: u32, height: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    fn inspect_bytes(bytes: &[u8], format: ImageFormat) -> Result<Picture, Unusable> {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        inspect(file.path(), format)
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(&png(2, 2)), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff(b"just some text"), NEUTRAL_TYPE);
        assert_eq!(inline_format("image/png"), Some(ImageFormat::Png));
        assert_eq!(
            inline_format("image/svg+xml"),
            None,
            "SVG can carry scripts: never inline"
        );
        assert_eq!(inline_format("text/html"), None);
    }

    #[test]
    fn a_thumbnail_fits_320_pixels_and_keeps_the_shape() {
        let picture = inspect_bytes(&png(1000, 500), ImageFormat::Png).unwrap();
        assert_eq!((picture.width, picture.height), (1000, 500));
        assert_eq!(picture.thumbnail_type, "image/jpeg");
        let thumb = image::load_from_memory(&picture.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 160));

        let small = inspect_bytes(&png(40, 30), ImageFormat::Png).unwrap();
        let thumb = image::load_from_memory(&small.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (40, 30), "never enlarged");
    }

    #[test]
    fn transparent_images_get_a_webp_thumbnail() {
        let img = RgbaImage::from_fn(400, 400, |x, _| Rgba([255, 0, 0, if x < 200 { 0 } else { 255 }]));
        let mut bytes = Vec::new();
        image::codecs::png::PngEncoder::new(&mut bytes)
            .write_image(img.as_raw(), 400, 400, image::ExtendedColorType::Rgba8)
            .unwrap();
        let picture = inspect_bytes(&bytes, ImageFormat::Png).unwrap();
        assert_eq!(picture.thumbnail_type, "image/webp");
        let thumb = image::load_from_memory(&picture.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (320, 320));
        assert_eq!(thumb.to_rgba8().get_pixel(0, 0).0[3], 0, "transparency kept");
    }

    /// A PNG of `width` × `height` pixels, blue with a red top-left corner (a tenth of each
    /// side), whose EXIF orientation says how to turn it to show it upright.
    fn turned_png(width: u32, height: u32, orientation: Orientation) -> Vec<u8> {
        let img = RgbaImage::from_fn(width, height, |x, y| {
            if x < width / 10 && y < height / 10 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 255, 255])
            }
        });
        // A TIFF header (big-endian), one entry (0x0112, a SHORT: the orientation), no next IFD.
        let mut exif = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
        exif.extend_from_slice(&[0, orientation.to_exif(), 0, 0, 0, 0, 0, 0]);
        let mut out = Vec::new();
        let mut encoder = image::codecs::png::PngEncoder::new(&mut out);
        encoder.set_exif_metadata(exif).unwrap();
        encoder
            .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgba8)
            .unwrap();
        out
    }

    fn is_red(thumbnail: &DynamicImage, x: u32, y: u32) -> bool {
        let [r, _, b, _] = thumbnail.to_rgba8().get_pixel(x, y).0;
        r > 200 && b < 60
    }

    #[test]
    fn pictures_are_turned_upright_by_their_exif_orientation() {
        // Shown upright, the stored top-left corner is top-right after a quarter turn clockwise.
        let picture = inspect_bytes(&turned_png(640, 320, Orientation::Rotate90), ImageFormat::Png).unwrap();
        assert_eq!((picture.width, picture.height), (320, 640));
        let thumb = image::load_from_memory(&picture.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (160, 320));
        assert!(is_red(&thumb, 155, 5) && !is_red(&thumb, 5, 5) && !is_red(&thumb, 155, 315));

        // Under the thumbnail's size too.
        let small = inspect_bytes(&turned_png(60, 30, Orientation::Rotate270), ImageFormat::Png).unwrap();
        assert_eq!((small.width, small.height), (30, 60));
        let thumb = image::load_from_memory(&small.thumbnail).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (30, 60));
        assert!(
            is_red(&thumb, 1, 58) && !is_red(&thumb, 1, 1),
            "bottom-left after a quarter turn back"
        );

        let flipped = inspect_bytes(&turned_png(640, 320, Orientation::FlipHorizontal), ImageFormat::Png).unwrap();
        assert_eq!((flipped.width, flipped.height), (640, 320));
        let thumb = image::load_from_memory(&flipped.thumbnail).unwrap();
        assert!(is_red(&thumb, 315, 5) && !is_red(&thumb, 5, 5));
    }

    /// Turning a picture upright takes no second full-size copy: decoding a turned picture
    /// grows memory by its decoded pixels and little more. Measured in a process of its own
    /// (this test run again), so that other tests' memory does not count.
    #[test]
    fn turning_a_picture_upright_takes_no_second_full_size_copy() {
        const PICTURE: &str = "GOCHAT_TEST_TURNED_PICTURE";
        let status = |field: &str| -> u64 {
            let text = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = text.lines().find(|l| l.starts_with(field)).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        };
        if let Some(path) = std::env::var_os(PICTURE) {
            // Resets the peak (VmHWM) to what is resident now.
            std::fs::write("/proc/self/clear_refs", "5").unwrap();
            let before = status("VmRSS:");
            let picture = inspect(Path::new(&path), ImageFormat::Png).unwrap();
            assert_eq!((picture.width, picture.height), (2000, 3000));
            println!("grew {} KiB", status("VmHWM:") - before);
            return;
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), turned_png(3000, 2000, Orientation::Rotate90)).unwrap();
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "attachments::picture::tests::turning_a_picture_upright_takes_no_second_full_size_copy",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(PICTURE, file.path())
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&out.stdout);
        let grew: u64 = printed
            .split("grew ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|kib| kib.parse().ok())
            .unwrap_or_else(|| panic!("{printed}{}", String::from_utf8_lossy(&out.stderr)));
        let decoded_kib = 3000 * 2000 * 4 / 1024;
        assert!(
            grew < decoded_kib * 3 / 2,
            "{grew} KiB for {decoded_kib} KiB of decoded pixels"
        );
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_decoding() {
        let bomb = bomb_png(50_000, 50_000);
        assert!(bomb.len() < 100);
        assert_eq!(inspect_bytes(&bomb, ImageFormat::Png).unwrap_err(), Unusable::TooLarge);
    }

    #[test]
    fn a_damaged_image_is_unreadable() {
        let mut bytes = png(100, 100);
        bytes.truncate(bytes.len() / 2);
        assert_eq!(
            inspect_bytes(&bytes, ImageFormat::Png).unwrap_err(),
            Unusable::Unreadable
        );
        assert_eq!(
            inspect_bytes(b"\xff\xd8\xff\xe0 not really", ImageFormat::Jpeg).unwrap_err(),
            Unusable::Unreadable
        );
    }

    /// The figures of the README: time and peak memory of a 12-megapixel JPEG's thumbnail.
    /// Measured, not asserted: `cargo test --release -p gochat-messages -- --ignored --exact
    /// attachments::picture::tests::thumbnail_of_a_12_megapixel_jpeg --nocapture`.
    #[test]
    #[ignore = "a measurement; run it alone, in release"]
    fn thumbnail_of_a_12_megapixel_jpeg() {
        let (width, height) = (4000, 3000);
        let mut noise = 0x2545_f491_u32;
        let photo = RgbImage::from_fn(width, height, |x, y| {
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            let grain = (noise % 24) as u8;
            Rgb([
                ((x * 255 / width) as u8).saturating_add(grain),
                ((y * 255 / height) as u8).saturating_add(grain),
                (((x + y) / 31 % 256) as u8).saturating_add(grain),
            ])
        });
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&photo)
            .unwrap();
        drop(photo);
        std::fs::write(file.path(), &jpeg).unwrap();
        let megabytes = jpeg.len() as f64 / 1e6;
        drop(jpeg);

        let status = |field: &str| -> u64 {
            let text = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = text.lines().find(|l| l.starts_with(field)).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        };
        for round in 0..3 {
            // Resets the peak (VmHWM) to what is resident now.
            std::fs::write("/proc/self/clear_refs", "5").unwrap();
            let before = status("VmRSS:");
            let started = std::time::Instant::now();
            let picture = inspect(file.path(), ImageFormat::Jpeg).unwrap();
            let took = started.elapsed();
            let peak = status("VmHWM:");
            println!(
                "round {round}: {width}x{height} JPEG of {megabytes:.1} MB → {}-byte thumbnail in {took:?}; \
                 peak memory {} MiB above the {} MiB resident before",
                picture.thumbnail.len(),
                (peak - before) / 1024,
                before / 1024
            );
        }
    }
}
