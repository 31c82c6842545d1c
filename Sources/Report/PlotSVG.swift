import Cytometry
import Foundation
import MRD

/// Draws one ``PlotDensity`` as an inline SVG dot plot: density cells coloured by log₂ count
/// (one `<path>` per colour, horizontal runs merged), gates outlined with their counts,
/// aberrancy thresholds dashed, excluded time stretches shaded, and the counted clusters'
/// restricted-chain events as red points on top so that a 30-event cluster stays visible.
///
/// Size: about 15 bytes per run of equally coloured cells, so a 128 × 128 plot of a dense
/// population is 50–150 KB whatever the number of events.
enum PlotSVG {
    static let plotSize = 256.0
    static let left = 48.0, bottom = 36.0, top = 8.0, right = 12.0

    /// Density colours, sparse to dense (log₂ steps).
    static let densityPalette = ["#3b4cc0", "#4f6fd6", "#5f95e8", "#6fb9e8", "#7dd3c0", "#9fdf8a", "#d5e45a", "#f7c83a", "#f69134", "#e8532b", "#b40426"]
    /// Normal plasma cells on overlay plots (blue greys), under the red aberrant points.
    static let normalPalette = ["#a9bcd8", "#8ea6cc", "#7390bf", "#5a79b0", "#43639f", "#2f4f8c", "#1f3b73"]
    static let aberrantColour = "#e41a1c"

    static func render(_ plot: PlotDensity, index: Int) -> String {
        let width = left + plotSize + right, height = top + plotSize + bottom
        let xr = plot.x.range, yr = plot.y.range
        func px(_ v: Double) -> Double { left + (v - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * plotSize }
        func py(_ v: Double) -> Double { top + plotSize - (v - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * plotSize }
        let clip = "clip\(index)"
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(HTML.escape(plot.title))\">"
        svg += "<defs><clipPath id=\"\(clip)\"><rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotSize))\" height=\"\(n(plotSize))\"/></clipPath></defs>"
        svg += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotSize))\" height=\"\(n(plotSize))\" fill=\"#fff\" stroke=\"#444\" stroke-width=\"1\"/>"
        svg += "<g clip-path=\"url(#\(clip))\">"
        for stretch in plot.excludedStretches {
            let x0 = px(stretch.lowerBound), x1 = px(stretch.upperBound)
            svg += "<rect class=\"excluded\" x=\"\(n(x0))\" y=\"\(n(top))\" width=\"\(n(max(1, x1 - x0)))\" height=\"\(n(plotSize))\" fill=\"#e41a1c\" fill-opacity=\"0.15\"><title>excluded by the time gate</title></rect>"
        }
        for contour in plot.referenceContours { svg += ellipses(contour, px: px, py: py) }
        svg += density(plot)
        if plot.overlay && plot.aberrantEvents > 0 {
            var path = ""
            for i in 0..<plot.aberrantEvents {
                let x = min(max(Double(plot.aberrant[2 * i]), xr.lowerBound), xr.upperBound)
                let y = min(max(Double(plot.aberrant[2 * i + 1]), yr.lowerBound), yr.upperBound)
                path += "M\(n(px(x) - 1.5)) \(n(py(y) - 1.5))h3v3h-3z"
            }
            svg += "<path class=\"aberrant\" d=\"\(path)\" fill=\"\(aberrantColour)\"/>"
        }
        for line in plot.rules {
            if line.axis == "x" {
                svg += "<line class=\"rule\" x1=\"\(n(px(line.value)))\" x2=\"\(n(px(line.value)))\" y1=\"\(n(top))\" y2=\"\(n(top + plotSize))\" stroke=\"#b2182b\" stroke-dasharray=\"4 3\"><title>\(HTML.escape(line.label))</title></line>"
            } else {
                svg += "<line class=\"rule\" y1=\"\(n(py(line.value)))\" y2=\"\(n(py(line.value)))\" x1=\"\(n(left))\" x2=\"\(n(left + plotSize))\" stroke=\"#b2182b\" stroke-dasharray=\"4 3\"><title>\(HTML.escape(line.label))</title></line>"
            }
        }
        for gate in plot.gates {
            svg += "<g class=\"gate\" data-gate=\"\(HTML.escape(gate.id))\" data-count=\"\(gate.count)\" fill=\"none\" stroke=\"#111\" stroke-width=\"1.2\">"
            var labelAt = (left + 4, top + 12)
            switch gate.outline {
            case .rectangle(let xMin, let xMax, let yMin, let yMax):
                let x0 = px(max(xMin ?? xr.lowerBound, xr.lowerBound - 1)), x1 = px(min(xMax ?? xr.upperBound, xr.upperBound + 1))
                let y0 = py(min(yMax ?? yr.upperBound, yr.upperBound + 1)), y1 = py(max(yMin ?? yr.lowerBound, yr.lowerBound - 1))
                svg += "<rect x=\"\(n(x0))\" y=\"\(n(y0))\" width=\"\(n(max(0, x1 - x0)))\" height=\"\(n(max(0, y1 - y0)))\"/>"
                labelAt = (min(max(x0 + 3, left + 3), left + plotSize - 120), min(max(y0 + 11, top + 11), top + plotSize - 4))
            case .polygon(let vertices):
                let points = vertices.map { "\(n(px($0.x))),\(n(py($0.y)))" }.joined(separator: " ")
                svg += "<polygon points=\"\(points)\"/>"
                if let first = vertices.max(by: { $0.y < $1.y }) {
                    labelAt = (min(max(px(first.x) + 3, left + 3), left + plotSize - 120), min(max(py(first.y) + 11, top + 11), top + plotSize - 4))
                }
            }
            svg += "<text x=\"\(n(labelAt.0))\" y=\"\(n(labelAt.1))\" stroke=\"none\" fill=\"#111\" font-size=\"9\">\(HTML.escape(gate.id)) \(gate.count) (\(String(format: "%.3g", gate.percentOfParent))%)</text></g>"
        }
        svg += "</g>"
        // Axes.
        svg += "<g font-size=\"9\" fill=\"#333\">"
        for tick in plot.x.ticks {
            let x = px(tick.position)
            svg += "<line x1=\"\(n(x))\" x2=\"\(n(x))\" y1=\"\(n(top + plotSize))\" y2=\"\(n(top + plotSize + 4))\" stroke=\"#444\"/><text x=\"\(n(x))\" y=\"\(n(top + plotSize + 14))\" text-anchor=\"middle\">\(HTML.escape(tick.label))</text>"
        }
        for tick in plot.y.ticks {
            let y = py(tick.position)
            svg += "<line x1=\"\(n(left - 4))\" x2=\"\(n(left))\" y1=\"\(n(y))\" y2=\"\(n(y))\" stroke=\"#444\"/><text x=\"\(n(left - 6))\" y=\"\(n(y + 3))\" text-anchor=\"end\">\(HTML.escape(tick.label))</text>"
        }
        svg += "<text x=\"\(n(left + plotSize / 2))\" y=\"\(n(height - 6))\" text-anchor=\"middle\" font-size=\"11\">\(HTML.escape(axisTitle(plot.x)))</text>"
        svg += "<text transform=\"translate(12 \(n(top + plotSize / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">\(HTML.escape(axisTitle(plot.y)))</text>"
        svg += "</g></svg>"
        return svg
    }

    /// A reference subset's 1 and 2 SD ellipses (the covariance's eigen-axes), as closed paths
    /// of 48 points, in the plot's pixel space.
    static func ellipses(_ contour: PlotDensity.ReferenceContour, px: (Double) -> Double, py: (Double) -> Double) -> String {
        let (a, b, c) = (contour.covariance[0], contour.covariance[1], contour.covariance[2])
        let mean = (a + c) / 2, spread = (((a - c) / 2) * ((a - c) / 2) + b * b).squareRoot()
        let l1 = max(0, mean + spread), l2 = max(0, mean - spread)
        let angle = 0.5 * atan2(2 * b, a - c)
        var svg = "<g class=\"reference-subset\" data-subset=\"\(contour.subset)\" fill=\"none\" stroke=\"#1a9850\" stroke-width=\"1\"><title>normal reference subset \(contour.subset + 1): 1 and 2 SD</title>"
        for k in [1.0, 2.0] {
            var path = ""
            for i in 0...48 {
                let t = 2 * Double.pi * Double(i) / 48
                let u = k * l1.squareRoot() * cos(t), v = k * l2.squareRoot() * sin(t)
                let x = contour.centre[0] + u * cos(angle) - v * sin(angle), y = contour.centre[1] + u * sin(angle) + v * cos(angle)
                path += (i == 0 ? "M" : "L") + "\(n(px(x))) \(n(py(y)))"
            }
            svg += "<path d=\"\(path)Z\"\(k == 2 ? " stroke-dasharray=\"3 2\"" : "")/>"
        }
        return svg + "</g>"
    }

    static func axisTitle(_ axis: PlotDensity.Axis) -> String {
        axis.marker == axis.channel ? axis.marker : "\(axis.marker) (\(axis.channel))"
    }

    /// One path per colour level; each row's runs of equal level merged into one rectangle.
    static func density(_ plot: PlotDensity) -> String {
        let palette = plot.overlay ? normalPalette : densityPalette
        let cell = plotSize / Double(plot.bins)
        var paths = [String](repeating: "", count: palette.count)
        for row in 0..<plot.bins {
            let y = top + plotSize - Double(row + 1) * cell
            var column = 0
            while column < plot.bins {
                let count = plot.counts[row * plot.bins + column]
                guard count > 0 else { column += 1; continue }
                let level = min(palette.count - 1, Int(log2(Double(count))))
                var end = column + 1
                while end < plot.bins, let next = Optional(plot.counts[row * plot.bins + end]), next > 0,
                      min(palette.count - 1, Int(log2(Double(next)))) == level { end += 1 }
                paths[level] += "M\(n(left + Double(column) * cell)) \(n(y))h\(n(Double(end - column) * cell))v\(n(cell))h-\(n(Double(end - column) * cell))z"
                column = end
            }
        }
        var svg = "<g class=\"density\">"
        for (level, path) in paths.enumerated() where !path.isEmpty {
            svg += "<path d=\"\(path)\" fill=\"\(palette[level])\"/>"
        }
        return svg + "</g>"
    }

    /// A coordinate with at most two decimals, without trailing zeros.
    static func n(_ v: Double) -> String {
        let rounded = (v * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        var text = String(format: "%.2f", rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}

/// HTML text escaping (the XML entities, which HTML5 shares).
enum HTML {
    static func escape(_ text: String) -> String { XMLEscaping.escape(text) }
}
